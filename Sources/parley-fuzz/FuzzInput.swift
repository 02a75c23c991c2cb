import NIOCore
import NIOEmbedded
import ParleyProtocol
import ParleyServer

/// The code under fuzzing: bytes as a connection delivers them, through the daemon's line
/// framing (`LineFrameDecoder`), then each line through request parsing and parameter decoding,
/// exactly as a session does before anything reaches the writer.
///
/// The first byte picks how the input is cut into reads and the line limit (bit 6), so chunk
/// boundaries and over-long lines are explored too. Invariants that must hold for every input
/// are checked with `precondition`, so a violation is a crash libFuzzer reports.
enum FuzzInput {
    /// The nesting limit the daemon uses.
    static let maxDepth = 32

    /// Runs one input.
    static func run(_ input: UnsafeRawBufferPointer) {
        guard let control = input.first else { return }
        let bytes = input.dropFirst()
        // Low two bits 1...3: that many reads of equal size; 0: reads of 1, 9, 17 … 121 bytes (bits 2...5).
        // Few reads keep the rate up: every read goes through NIO's buffer merging.
        let parts = Int(control & 0x03)
        let chunk = parts == 0 ? Int((control >> 2) & 0x0F) * 8 + 1 : max(1, (bytes.count + parts - 1) / parts)
        let limit = control & 0x40 == 0 ? 1 << 20 : 96
        for line in frame(Array(bytes), chunk: chunk, limit: limit) {
            guard case .line(let line) = line else { continue }
            precondition(line.count <= limit, "a line over the limit was passed on")
            precondition(!line.contains(UInt8(ascii: "\n")), "a line holds a newline")
            decode(line)
        }
    }

    /// The decoder's output for `bytes` delivered in reads of `chunk` bytes, then end of input.
    static func frame(_ bytes: [UInt8], chunk: Int, limit: Int) -> [LineInput] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLineBytes: limit)))
        var output: [LineInput] = []
        func drain() {
            while let item = try? channel.readInbound(as: LineInput.self) { output.append(item) }
        }
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            var buffer = channel.allocator.buffer(capacity: end - offset)
            buffer.writeBytes(bytes[offset..<end])
            _ = try? channel.writeInbound(buffer)
            drain()
            offset = end
        }
        _ = try? channel.finish()
        drain()
        return output
    }

    /// Parses one line as the session does, then decodes a command's params.
    static func decode(_ line: [UInt8]) {
        switch Request.parse(line, maxDepth: maxDepth) {
        case .failure(let failure):
            _ = failure.error.code
        case .success(let request):
            // The id and method are echoed in answers: quoting them must give JSON that reads back the same.
            if case .string(let id) = request.id { precondition(roundTrips(id), "an id does not survive quoting") }
            precondition(roundTrips(request.method), "a method name does not survive quoting")
            guard let method = Method(rawValue: request.method), method.isCommand else { return }
            _ = try? CommandDecoding.command(method, request.params)
        }
    }

    /// Whether `text` quoted as JSON parses back to the same bytes.
    static func roundTrips(_ text: String) -> Bool {
        let quoted = JSONText.quote(text)
        guard case .success(let request) = Request.parse(
            Array(#"{"id":1,"method":\#(quoted)}"#.utf8), maxDepth: maxDepth
        ) else { return false }
        return Array(request.method.utf8) == Array(text.utf8)
    }
}
