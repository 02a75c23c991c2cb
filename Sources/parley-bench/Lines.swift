import Glibc

/// What the bench needs from one line the daemon sent, found without a JSON parser.
///
/// The daemon writes `{"jsonrpc":"2.0","id":N,"result":…}`, `{"jsonrpc":"2.0","id":N,"error":…}`
/// and notifications `{"jsonrpc":"2.0","method":"…","params":…}` (see `ResponseWriter`).
enum Line {
    /// An answer to request `id`, `ok` false for an error answer.
    case answer(id: Int, ok: Bool)
    /// A notification with this method name.
    case notification(method: String)
    /// Anything else.
    case other

    private static let answerPrefix = Array("{\"jsonrpc\":\"2.0\",\"id\":".utf8)
    private static let notificationPrefix = Array("{\"jsonrpc\":\"2.0\",\"method\":\"".utf8)

    /// Classifies a line.
    static func parse(_ line: UnsafeRawBufferPointer) -> Line {
        if hasPrefix(line, answerPrefix) {
            var i = answerPrefix.count
            var id = 0
            while i < line.count, line[i] >= 0x30, line[i] <= 0x39 {
                id = id * 10 + Int(line[i] - 0x30)
                i += 1
            }
            let ok = hasPrefix(UnsafeRawBufferPointer(rebasing: line[i...]), Array(",\"result\"".utf8))
            return .answer(id: id, ok: ok)
        }
        if hasPrefix(line, notificationPrefix) {
            var i = notificationPrefix.count
            while i < line.count, line[i] != UInt8(ascii: "\"") { i += 1 }
            return .notification(method: String(decoding: line[notificationPrefix.count..<i], as: UTF8.self))
        }
        return .other
    }

    /// Whether the line is an `events.event` notification (cheaper than ``parse(_:)``).
    static func isEvent(_ line: UnsafeRawBufferPointer) -> Bool {
        hasPrefix(line, eventPrefix)
    }

    private static let eventPrefix = Array("{\"jsonrpc\":\"2.0\",\"method\":\"events.event\"".utf8)

    /// The number after the first occurrence of `marker` (e.g. `"text":"k` → the sequence number), if any.
    static func number(after marker: [UInt8], in line: UnsafeRawBufferPointer) -> Int? {
        guard let found = find(marker, in: line, from: 0) else { return nil }
        var i = found + marker.count
        var value = 0
        var digits = 0
        while i < line.count, line[i] >= 0x30, line[i] <= 0x39 {
            value = value * 10 + Int(line[i] - 0x30)
            i += 1
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    /// The offset of the first occurrence of `marker` in `line` at or after `start`.
    static func find(_ marker: [UInt8], in line: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = line.baseAddress, let first = marker.first, !marker.isEmpty else { return nil }
        var offset = start
        while offset + marker.count <= line.count {
            guard let hit = memchr(base + offset, Int32(first), line.count - offset - marker.count + 1) else { return nil }
            let at = UnsafeRawPointer(hit) - base
            let same = marker.withUnsafeBytes { m in m.baseAddress.map { memcmp(base + at, $0, marker.count) == 0 } ?? false }
            if same { return at }
            offset = at + 1
        }
        return nil
    }

    private static func hasPrefix(_ line: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        guard line.count >= prefix.count else { return false }
        for i in 0..<prefix.count where line[i] != prefix[i] { return false }
        return true
    }
}

/// Writes a line to stderr (progress and diagnostics; stdout carries only results).
func progress(_ text: String) {
    var bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
