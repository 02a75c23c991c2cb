public import ParleyCore

/// A command as the writer receives it: what, who, and the client's idempotency key.
public struct CommandRequest: Sendable, Hashable {
    /// What to do.
    public var command: Command
    /// Who asks.
    public var actor: Actor
    /// The client's key; a retry with the same key returns the original result.
    public var idempotencyKey: String?

    /// Creates a request.
    public init(_ command: Command, actor: Actor, idempotencyKey: String? = nil) {
        self.command = command
        self.actor = actor
        self.idempotencyKey = idempotencyKey
    }
}

/// What became of a command.
public enum CommandOutcome: Sendable, Hashable {
    /// Accepted: the events it appended (possibly none) are in the log.
    case accepted(CommandResult)
    /// Refused; nothing was appended.
    case rejected(Rejection)

    /// The result, when accepted.
    public var result: CommandResult? {
        if case .accepted(let result) = self { result } else { nil }
    }

    /// The rejection, when refused.
    public var rejection: Rejection? {
        if case .rejected(let rejection) = self { rejection } else { nil }
    }
}

/// An accepted command's events and the position the client can resume from.
public struct CommandResult: Sendable, Hashable {
    /// The events the command appended, in order (empty when it changed nothing).
    public var events: [RecordedEvent]
    /// The last appended position, or the head when nothing was appended.
    public var position: UInt64
    /// True when this is the original result returned again for a repeated idempotency key.
    public var replayed: Bool
    /// What the projections held right after the command (for a replay: when it was replayed).
    public var state: ResultingState

    /// Creates a result.
    public init(events: [RecordedEvent], position: UInt64, replayed: Bool, state: ResultingState = ResultingState()) {
        self.events = events
        self.position = position
        self.replayed = replayed
        self.state = state
    }
}
