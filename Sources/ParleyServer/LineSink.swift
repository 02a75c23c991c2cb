public import ParleyProtocol

/// Where a session writes its lines (answers and notifications), one JSON object each.
///
/// The socket implementation suspends ``write(_:)`` while the peer is not reading
/// (backpressure); what ``write(_:done:)`` queues without waiting is bounded by the
/// session's in-flight limit. The in-process implementation buffers without bound: its
/// only users are the daemon's own parts (the carrier simulator), which read everything.
public protocol LineSink: Sendable {
    /// Writes one line (without newline), waiting while the peer is not reading.
    func write(_ line: String) async throws
    /// Writes `lines` (UTF-8 of one line, or of several joined by `\n`; without the final
    /// newline) at once, waiting while the peer is not reading.
    func write(_ lines: [UInt8]) async throws
    /// Writes `lines` (UTF-8 of one line, or of several joined by `\n`; without the final
    /// newline) at once, without waiting for the peer; `done` says whether they reached the
    /// connection's socket. Callers bound what they write this way (the session's in-flight limit).
    func write(_ lines: [UInt8], done: @escaping @Sendable (Bool) -> Void)
    /// Runs `body` soon on the connection's own thread (its event loop), not the caller's.
    func execute(_ body: @escaping @Sendable () -> Void)
    /// Queues final lines after everything already queued, without waiting for the peer,
    /// and closes the connection once they are sent or `grace` has passed.
    func finish(_ lines: [String], grace: Duration)
    /// Closes the connection.
    func close()
}

/// One unit of input from a connection.
public enum LineInput: Sendable {
    /// A complete line, without its `\n` or `\r\n`.
    case line([UInt8])
    /// A line longer than the limit; the rest of it was not buffered.
    case tooLong
    /// A partial line was left unfinished past the line timeout; it and the rest were discarded.
    case stalled
    /// A request the connection's event loop already parsed that is not a command for the
    /// writer (``CommandIntake``).
    case request(Request)
    /// A command line the connection's event loop already refused: this answer (an error
    /// line), to be written in order with the session's other lines.
    case refusal(String)
}
