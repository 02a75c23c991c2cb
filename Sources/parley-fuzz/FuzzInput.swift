import Foundation
import ParleyCore
import ParleyProtocol
import ParleyServer
import ParleyStore

/// The parsers under fuzzing, each called directly (no NIO, no socket), so that thousands of
/// inputs run per second. Invariants that must hold for every input are checked with
/// `precondition`, so a violation is a crash libFuzzer reports.
enum FuzzTarget: String, CaseIterable {
    /// Line framing's rules (``LineFraming``), the input delivered in reads of several sizes.
    case framing
    /// The JSON parser.
    case json
    /// A request line: envelope, params and command decoding, as a session does.
    case request
    /// The binary stored-event decoder.
    case event
    /// The open checks on the tail of a small log whose last events are mutated.
    case tail

    /// The nesting limit the daemon uses.
    static let maxDepth = 32

    /// Runs one input.
    func run(_ input: UnsafeRawBufferPointer) {
        switch self {
        case .framing: Self.framing(input)
        case .json: Self.json(Array(input))
        case .request: Self.request(Array(input))
        case .event: Self.event(input)
        case .tail: TailFuzz.shared.run(input)
        }
    }

    /// The first byte picks the line limit (bit 6) and the read size (bits 0…5, 0 meaning all at
    /// once); the lines must not depend on how the bytes were cut into reads.
    static func framing(_ input: UnsafeRawBufferPointer) {
        guard let control = input.first else { return }
        let bytes = Array(input.dropFirst())
        let limit = control & 0x40 == 0 ? 1 << 20 : 96
        let chunk = Int(control & 0x3F)
        let whole = frame(bytes, chunk: bytes.count, limit: limit)
        let cut = chunk == 0 ? whole : frame(bytes, chunk: chunk, limit: limit)
        precondition(cut == whole, "the lines depend on how the bytes were cut into reads")
        for case .line(let line, _) in whole {
            precondition(line.count <= limit, "a line over the limit was passed on")
            precondition(!line.contains(UInt8(ascii: "\n")), "a line holds a newline")
        }
        if whole.contains(.tooLong) { precondition(whole.last == .tooLong, "a line was passed on after one too long") }
    }

    /// The steps for `bytes` delivered in reads of `chunk` bytes, then the end of input, with the
    /// held bytes kept as `LineFrameDecoder` keeps them.
    static func frame(_ bytes: [UInt8], chunk: Int, limit: Int) -> [LineFraming.Step] {
        var framing = LineFraming(maxLineBytes: limit)
        var held: [UInt8] = []
        var output: [LineFraming.Step] = []
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + max(1, chunk))
            held += bytes[offset..<end]
            offset = end
            steps: while true {
                if framing.discarding { held.removeAll() }
                switch framing.step(held) {
                case .line(let line, let consumed):
                    output.append(.line(line, consumed: 0))
                    held.removeFirst(consumed)
                case .tooLong:
                    output.append(.tooLong)
                    held.removeAll()
                case .needMoreData:
                    break steps
                }
            }
        } while offset < bytes.count
        if let last = framing.finish(held) {
            if case .line(let line, _) = last { output.append(.line(line, consumed: 0)) } else { output.append(.tooLong) }
        }
        return output
    }

    /// A value that parses must parse the same with whitespace around it.
    static func json(_ bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes, maxDepth: maxDepth) else { return }
        let spaced = Array(" \n".utf8) + bytes + Array("\t\r".utf8)
        precondition((try? JSONParser.parse(spaced, maxDepth: maxDepth)) == value, "whitespace around a value changed it")
    }

    /// Parses one line as the session does, then decodes a command's params.
    static func request(_ line: [UInt8]) {
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
        guard case .success(let request) = Request.parse(Array(#"{"id":1,"method":\#(quoted)}"#.utf8), maxDepth: maxDepth) else {
            return false
        }
        return Array(request.method.utf8) == Array(text.utf8)
    }

    /// A stored event that decodes must encode to bytes that decode to the same event.
    static func event(_ bytes: UnsafeRawBufferPointer) {
        guard let stored = try? StoredEvent(decoding: bytes) else { return }
        let encoded = StoredEvent.encode(stored.recorded, after: stored.prevHash)
        let again = encoded.value.withUnsafeBytes { try? StoredEvent(decoding: $0) }
        precondition(again?.recorded == stored.recorded, "a decoded event does not survive encoding")
        precondition(again?.hash == encoded.hash, "an encoded event does not carry its own hash")
    }
}

/// The `tail` target: a small real log, built once, whose last events are mutated by the input.
final class TailFuzz: @unchecked Sendable {
    static let shared = TailFuzz()

    /// The events as stored, position 1 first.
    private let values: [[UInt8]]
    /// The events as stored, for seeding the corpora.
    var events: [[UInt8]] { values }

    private init() {
        var values: [[UInt8]] = []
        let directory = NSTemporaryDirectory() + "parley-fuzz-tail-\(getpid())"
        do {
            try? FileManager.default.removeItem(atPath: directory)
            do {
                let engine = try Engine(directory: directory, options: EngineOptions(initialMapSize: 4 << 20))
                let commands = DemoDirectory.commands + [
                    .login(Login(agentId: "alice", state: .ready)),
                    .receive(ReceiveInbound(from: "+15551230001", to: "+15550100100", text: "Hello ✓ 👋")),
                    .receive(ReceiveInbound(from: "+15551230002", to: "+15550100201", text: "A second customer")),
                ]
                for command in commands { _ = try engine.execute([CommandRequest(command, actor: Actor(uid: 0, role: .admin))]) }
            }
            let log = try EventLog(path: DataDirectory(directory).log, readOnly: true, mapSize: 4 << 20)
            _ = try log.scan { _, value in values.append(Array(value)) }
        } catch {
            fatalError("parley-fuzz: cannot build the small log: \(error)")
        }
        try? FileManager.default.removeItem(atPath: directory)
        self.values = values
    }

    /// The first byte: how many of the last events to mutate (1…4) and how (bit 2: replace the
    /// event with the input's bytes; else overwrite its bytes from an offset, bits 3…7 × 8).
    func run(_ input: UnsafeRawBufferPointer) {
        guard let control = input.first, values.count > 4 else { return }
        let patch = Array(input.dropFirst())
        let count = Int(control & 0x03) + 1
        let first = values.count - count
        var tail = Array(values[first...])
        let pieces = patch.split(separator: 0xFF, maxSplits: count - 1, omittingEmptySubsequences: false)
        for (index, piece) in pieces.enumerated() where index < count {
            if control & 0x04 != 0 {
                tail[index] = Array(piece)
            } else {
                let offset = Int(control >> 3) * 8
                for (at, byte) in piece.enumerated() where offset + at < tail[index].count { tail[index][offset + at] = byte }
            }
        }
        let after = UInt64(first)
        let previous = first > 0 ? values[first - 1].withUnsafeBytes { try? StoredEvent(decoding: $0) }?.hash ?? .zero : .zero
        var chain = TailChainCheck(after: after, previous: previous)
        var accepted = 0
        do {
            for (index, value) in tail.enumerated() {
                try value.withUnsafeBytes { try chain.check(position: after + 1 + UInt64(index), value: $0) }
                accepted += 1
            }
            try chain.finish(head: LogHead(position: UInt64(values.count), hash: .zero))
        } catch {
            guard case StoreError.corrupt(let position, _) = error, let position else { preconditionFailure("the check threw \(error)") }
            precondition(position == after + 1 + UInt64(accepted), "the check named position \(position), not the first it refused")
        }
        // Each accepted event but the last is pinned by the next one's prevHash: it must be the original.
        for index in 0..<max(0, accepted - 1) {
            precondition(tail[index] == values[first + index], "a changed event was accepted before another")
        }
    }
}
