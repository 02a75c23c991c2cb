public import NIOCore

/// Splits the byte stream into lines (`\n`, with an optional `\r` before it removed).
///
/// A line longer than `maxLineBytes` yields ``LineInput/tooLong`` once and then everything
/// after it is discarded without being buffered, so a hostile peer cannot grow memory.
public struct LineFrameDecoder: ByteToMessageDecoder {
    /// One line, or the notice that a line was too long.
    public typealias InboundOut = LineInput

    /// The longest line passed on, in bytes without the terminator.
    public let maxLineBytes: Int
    private var discarding = false
    private var scanned = 0

    /// Creates a decoder passing on lines of at most `maxLineBytes` bytes.
    public init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    /// Passes on every complete line in `buffer`.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if discarding {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        let start = view.startIndex
        if let newline = view[(start + scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
            var length = newline - start
            scanned = 0
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
        return .needMoreData
    }

    private mutating func tooLong(context: ChannelHandlerContext, buffer: inout ByteBuffer) -> DecodingState {
        discarding = true
        buffer.moveReaderIndex(to: buffer.writerIndex)
        context.fireChannelRead(wrapInboundOut(.tooLong))
        return .needMoreData
    }

    /// At the end of input, a final line without a newline is still a line.
    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if !discarding, buffer.readableBytes > maxLineBytes + 1 {
            _ = tooLong(context: context, buffer: &buffer)
        } else if !discarding, buffer.readableBytes > 0, let rest = buffer.readBytes(length: buffer.readableBytes) {
            let line = rest.last == UInt8(ascii: "\r") ? Array(rest.dropLast()) : rest
            // Up to maxLineBytes + 1 bytes were kept in case the last was a "\r"; without it the line is too long.
            guard line.count <= maxLineBytes else { return tooLong(context: context, buffer: &buffer) }
            context.fireChannelRead(wrapInboundOut(.line(line)))
        }
        return .needMoreData
    }
}
