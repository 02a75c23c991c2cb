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

    /// The rules, without NIO (``LineFraming``).
    private var framing: LineFraming
    /// The longest line passed on, in bytes without the terminator.
    public var maxLineBytes: Int { framing.maxLineBytes }
    /// How long a partial line may wait for its end (`nil`: forever).
    public let lineTimeout: TimeAmount?
    /// The pending timeout of the current partial line.
    private var timer: Scheduled<Void>?
    /// Set on the event loop when the timer fired.
    private var stalled: NIOLoopBoundBox<Bool>?

    /// Creates a decoder passing on lines of at most `maxLineBytes` bytes, each finished
    /// within `lineTimeout` of its first byte when one is given.
    public init(maxLineBytes: Int, lineTimeout: TimeAmount? = nil) {
        framing = LineFraming(maxLineBytes: maxLineBytes)
        self.lineTimeout = lineTimeout
    }

    /// Passes on every complete line in `buffer`.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if framing.discarding || stalled?.value == true {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        switch framing.step(buffer.readableBytesView) {
        case .line(let line, let consumed):
            cancelTimer()
            buffer.moveReaderIndex(forwardBy: consumed)
            context.fireChannelRead(wrapInboundOut(.line(line)))
            return .continue
        case .tooLong:
            return tooLong(context: context, buffer: &buffer)
        case .needMoreData:
            if buffer.readableBytes > 0 { startTimer(context: context) }
            return .needMoreData
        }
    }

    private mutating func tooLong(context: ChannelHandlerContext, buffer: inout ByteBuffer) -> DecodingState {
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
        if stalled?.value != true, let last = framing.finish(buffer.readableBytesView) {
            if case .line(let line, _) = last {
                context.fireChannelRead(wrapInboundOut(.line(line)))
            } else {
                context.fireChannelRead(wrapInboundOut(.tooLong))
            }
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
