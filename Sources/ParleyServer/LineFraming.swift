/// The line-framing rules, without NIO: what ``LineFrameDecoder`` does with the bytes it holds.
///
/// Lines end with `\n`; one `\r` before it is removed. A line longer than ``maxLineBytes``
/// gives ``Step/tooLong`` once, and from then on every byte is discarded, so a hostile peer
/// cannot grow memory: at most one partial line (and its `\r`) is ever held.
public struct LineFraming: Sendable {
    /// The longest line passed on, in bytes without the terminator.
    public let maxLineBytes: Int
    /// Whether a line was too long: everything after it is discarded.
    public private(set) var discarding = false
    /// How much of the held bytes is known to hold no newline.
    private var scanned = 0

    /// What to do with the held bytes.
    public enum Step: Equatable, Sendable {
        /// A line; `consumed` bytes (the line and its terminator) are used up.
        case line([UInt8], consumed: Int)
        /// The line was too long: every held byte is used up, and every later one will be.
        case tooLong
        /// No complete line: every byte is held (discarded, when `discarding`), none used up.
        case needMoreData
    }

    /// Creates the rules for lines of at most `maxLineBytes` bytes.
    public init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    /// The next step for the bytes held, `bytes` (the same bytes, less what earlier steps used
    /// up, plus what arrived since).
    public mutating func step<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Step {
        guard !discarding else { return .needMoreData }
        let rest = bytes.dropFirst(scanned)
        guard let newline = rest.firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = bytes.count
            return bytes.count > maxLineBytes + 1 ? tooLong() : .needMoreData
        }
        let length = bytes.distance(from: bytes.startIndex, to: newline)
        scanned = 0
        guard length <= maxLineBytes + 1 else { return tooLong() }
        var line = Array(bytes[bytes.startIndex..<newline])
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        guard line.count <= maxLineBytes else { return tooLong() }
        return .line(line, consumed: length + 1)
    }

    /// At the end of input, after the steps gave ``Step/needMoreData``: a last line without a
    /// newline is still a line; `nil` when nothing is left to pass on.
    public mutating func finish<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Step? {
        guard !discarding, !bytes.isEmpty else { return nil }
        // Up to maxLineBytes + 1 bytes were held in case the last was a "\r".
        var line = Array(bytes)
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line.count <= maxLineBytes ? .line(line, consumed: bytes.count) : tooLong()
    }

    private mutating func tooLong() -> Step {
        discarding = true
        scanned = 0
        return .tooLong
    }
}
