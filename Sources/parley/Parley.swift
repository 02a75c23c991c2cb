import ArgumentParser

/// The `parley` command: client and offline tools for a Parley data directory.
@main
struct Parley: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "Parley: an event-sourced SMS conversation engine for contact centers.",
        subcommands: [
            ClientInfo.self, ClientCall.self, ClientSend.self, ClientTranscript.self, ClientRecent.self, ClientView.self,
            ClientTail.self, ClientLogin.self, ClientLogout.self, ClientState.self, ClientAccept.self, ClientEnd.self,
            ClientInbound.self, Count.self, Debug.self,
        ]
    )
}
