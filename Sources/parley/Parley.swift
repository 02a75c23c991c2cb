import ArgumentParser
import Foundation

/// The `parley` command: client and offline tools for a Parley data directory.
@main
struct Parley: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "Parley: an event-sourced SMS conversation engine for contact centers.",
        subcommands: [
            ClientInfo.self, ClientCall.self, ClientSend.self, ClientTranscript.self, ClientRecent.self,
            ClientView.self,
            ClientTail.self, ClientLogin.self, ClientLogout.self, ClientState.self, ClientAccept.self, ClientEnd.self,
            ClientInbound.self, Count.self, LogCommand.self, AuditCommand.self, ProjectionsCommand.self,
            BackupCommand.self,
            StatsCommand.self,
        ]
    )

    /// Runs the command; usage errors exit 2 (not ArgumentParser's 64), as the tools document.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var client = command as? any AsyncParsableCommand {
                try await client.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
