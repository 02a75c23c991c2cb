import ArgumentParser

/// The `parley` command: client and offline tools for a Parley data directory.
@main
struct Parley: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "Parley: an event-sourced SMS conversation engine for contact centers.",
        subcommands: [Count.self, Debug.self]
    )
}
