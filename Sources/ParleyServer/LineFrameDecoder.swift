import NIOCore

/// Splits the byte stream into lines (`\n`, with an optional `\r` before it removed).
///
/// A line longer than `maxLineBytes` yields ``LineInput/tooLong`` once and then everything
/// after it is discarded without being buffered, so a hostile peer cannot grow memory.
struct LineFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = LineInput

    let maxLineBytes: Int
    private var discarding = false
    private var scanned = 0

    init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
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

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A final line without a newline is still a line.
        while try decode(context: context, buffer: &buffer) == .continue {}
        if !discarding, buffer.readableBytes > maxLineBytes + 1 {
            _ = tooLong(context: context, buffer: &buffer)
        } else if !discarding, buffer.readableBytes > 0, let rest = buffer.readBytes(length: buffer.readableBytes) {
            let line = rest.last == UInt8(ascii: "\r") ? Array(rest.dropLast()) : rest
            context.fireChannelRead(wrapInboundOut(.line(line)))
        }
        return .needMoreData
    }
}
