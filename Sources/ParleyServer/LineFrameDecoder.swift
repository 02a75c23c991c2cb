public import NIOCore

/// Splits the byte stream into lines (`\n`, with an optional `\r` before it removed).
///
/// A line longer than `maxLineBytes` yields ``LineInput/tooLong`` once and then everything
/// after it is discarded without being buffered, so a hostile peer cannot grow memory.
/// A line must also be finished within `lineTimeout` of its first byte (or of the end of the
/// line before it, when the bytes came together): a partial line left longer — a slow-loris
/// peer trickling bytes or one that stops mid-line — yields ``LineInput/stalled`` once and
/// everything after it is discarded. Each connection so buffers at most one partial line.
public struct LineFrameDecoder: ByteToMessageDecoder {
    /// One line, or the notice that a line was too long or stalled.
    public typealias InboundOut = LineInput

    /// The longest line passed on, in bytes without the terminator.
    public let maxLineBytes: Int
    /// How long a partial line may wait for its end (`nil`: forever).
    public let lineTimeout: TimeAmount?
    private var discarding = false
    private var scanned = 0
    /// The pending timeout of the current partial line.
    private var timer: Scheduled<Void>?
    /// Set on the event loop when the timer fired.
    private var stalled: NIOLoopBoundBox<Bool>?

    /// Creates a decoder passing on lines of at most `maxLineBytes` bytes, each finished
    /// within `lineTimeout` of its first byte when one is given.
    public init(maxLineBytes: Int, lineTimeout: TimeAmount? = nil) {
        self.maxLineBytes = maxLineBytes
        self.lineTimeout = lineTimeout
    }

    /// Passes on every complete line in `buffer`.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if discarding || stalled?.value == true {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        let start = view.startIndex
        if let newline = view[(start + scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
            var length = newline - start
            scanned = 0
            cancelTimer()
            guard length <= maxLineBytes + 1 else { return tooLong(context: context, buffer: &buffer) }
            var line = buffer.readBytes(length: length) ?? []
            buffer.moveReaderIndex(forwardBy: 1)
            if line.last == UInt8(ascii: "\r") {
                line.removeLast()
                length -= 1
            }
            guard length <= maxLineBytes else { return tooLong(context: context, buffer: &buffer) }
            context.fireChannelRead(wrapInboundOut(.line(line)))
            return .continue
        }
        scanned = view.count
        if view.count > maxLineBytes + 1 { return tooLong(context: context, buffer: &buffer) }
        if view.count > 0 { startTimer(context: context) }
        return .needMoreData
    }

    private mutating func tooLong(context: ChannelHandlerContext, buffer: inout ByteBuffer) -> DecodingState {
        discarding = true
        cancelTimer()
        buffer.moveReaderIndex(to: buffer.writerIndex)
        context.fireChannelRead(wrapInboundOut(.tooLong))
        return .needMoreData
    }

    /// Arms the timeout of the partial line now buffered, unless it is armed already.
    private mutating func startTimer(context: ChannelHandlerContext) {
        guard let lineTimeout, timer == nil else { return }
        let flag = stalled ?? NIOLoopBoundBox(false, eventLoop: context.eventLoop)
        stalled = flag
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: lineTimeout) {
            guard !flag.value else { return }
            flag.value = true
            bound.value.fireChannelRead(NIOAny(LineInput.stalled))
            bound.value.fireChannelReadComplete()
        }
    }

    private mutating func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    /// Stops the partial line's timer.
    public mutating func decoderRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    /// At the end of input, a final line without a newline is still a line.
    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        cancelTimer()
        if discarding || stalled?.value == true {
            buffer.moveReaderIndex(to: buffer.writerIndex)
        } else if buffer.readableBytes > maxLineBytes + 1 {
            _ = tooLong(context: context, buffer: &buffer)
        } else if buffer.readableBytes > 0, let rest = buffer.readBytes(length: buffer.readableBytes) {
            let line = rest.last == UInt8(ascii: "\r") ? Array(rest.dropLast()) : rest
            // Up to maxLineBytes + 1 bytes were kept in case the last was a "\r"; without it the line is too long.
            guard line.count <= maxLineBytes else { return tooLong(context: context, buffer: &buffer) }
            context.fireChannelRead(wrapInboundOut(.line(line)))
        }
        return .needMoreData
    }
}
