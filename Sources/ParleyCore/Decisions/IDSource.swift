/// Kinds of server-assigned ids.
public enum IDKind: Sendable {
    case conversation
    case message

    /// The id prefix: `c-` or `m-`.
    public var prefix: String { self == .conversation ? "c-" : "m-" }
}

/// Where the engine gets new ids. Injected so tests are deterministic.
public protocol IDSource: AnyObject {
    /// A new id of `kind`, never returned before.
    func next(_ kind: IDKind) -> String
}

/// Ids `c-1`, `m-2`, … from a counter, for tests.
public final class SequentialIDs: IDSource {
    private var counter: UInt64

    /// Creates a source starting after `start`.
    public init(start: UInt64 = 0) { counter = start }

    /// The next id.
    public func next(_ kind: IDKind) -> String {
        counter += 1
        return kind.prefix + String(counter)
    }
}

/// Random 80-bit ids in 16 lowercase base-32 digits, e.g. `m-k3v9q2x7ab4dn8rt`, for production.
///
/// 80 bits keep the chance of any collision below one in a million up to 10^9 ids,
/// while staying short enough for a person to read out or type.
public final class RandomIDs: IDSource {
    private var generator = SystemRandomNumberGenerator()
    private static let digits = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// Creates a source.
    public init() {}

    /// A new random id.
    public func next(_ kind: IDKind) -> String {
        var high = UInt64(generator.next() as UInt16)
        var low = generator.next() as UInt64
        var out = [UInt8](repeating: 0, count: 16)
        for index in (0..<16).reversed() {
            out[index] = Self.digits[Int(low & 31)]
            low = low >> 5 | (high & 31) << 59
            high >>= 5
        }
        return kind.prefix + String(decoding: out, as: UTF8.self)
    }
}
