/// A connection inside the daemon's process: lines go in and out through async streams,
/// through the same ``Session`` (and so the same protocol) a socket client uses.
public final class InProcessConnection: LineSink {
    /// Lines the server wrote (answers and notifications).
    public let output: AsyncStream<String>
    /// Lines to the server.
    public let input: AsyncStream<LineInput>
    private let outputContinuation: AsyncStream<String>.Continuation
    private let inputContinuation: AsyncStream<LineInput>.Continuation

    /// Creates an unconnected pair of streams.
    public init() {
        (output, outputContinuation) = AsyncStream.makeStream(of: String.self)
        (input, inputContinuation) = AsyncStream.makeStream(of: LineInput.self)
    }

    /// Sends one request line to the server.
    public func send(_ line: String) { inputContinuation.yield(.line(Array(line.utf8))) }

    /// Ends the input (the client hangs up).
    public func hangUp() { inputContinuation.finish() }

    /// Server side: writes a line to the client.
    public func write(_ line: String) async throws { yieldLines(line) }

    /// Server side: writes lines to the client.
    public func write(_ lines: [UInt8]) async throws { yieldLines(String(decoding: lines, as: UTF8.self)) }

    /// Server side: writes lines at once.
    public func write(_ lines: [UInt8], done: @escaping @Sendable (Bool) -> Void) {
        yieldLines(String(decoding: lines, as: UTF8.self))
        done(true)
    }

    /// Server side: runs `body` at once (there is no event loop to hop to), so a command's
    /// answer to an in-process client is encoded on the writer's thread: small, and only the
    /// simulator's.
    public func execute(_ body: @escaping @Sendable () -> Void) { body() }

    /// One stream element per line, as a client reading the socket would split them.
    private func yieldLines(_ text: String) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) { outputContinuation.yield(String(line)) }
    }

    /// Server side: writes final lines and closes.
    public func finish(_ lines: [String], grace: Duration) {
        for line in lines { outputContinuation.yield(line) }
        close()
    }

    /// Server side: closes both directions.
    public func close() {
        outputContinuation.finish()
        inputContinuation.finish()
    }
}
