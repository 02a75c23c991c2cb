import NIOCore

/// Splits what the server sends into lines (`\n`, an optional `\r` before it dropped), refusing
/// a line longer than `maxLineBytes` so a broken server cannot grow the client's memory.
struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// Thrown into the pipeline when a line is longer than the cap.
    struct LineTooLong: Error { let limit: Int }

    let maxLineBytes: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > maxLineBytes { throw LineTooLong(limit: maxLineBytes) }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        guard length <= maxLineBytes + 1 else { throw LineTooLong(limit: maxLineBytes) }
        // `length` bytes precede the newline, which `readSlice` then skips.
        var line = buffer.readSlice(length: length) ?? ByteBuffer()
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
        guard line.readableBytes <= maxLineBytes else { throw LineTooLong(limit: maxLineBytes) }
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
