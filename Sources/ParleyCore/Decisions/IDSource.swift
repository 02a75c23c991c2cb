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
    /// Told, when the engine opens, the greatest ids already in the store, so that new ones
    /// can follow them (whatever the clock says).
    func resume(after existing: [String])
}

extension IDSource {
    /// Ignores the ids already in the store.
    public func resume(after existing: [String]) {}
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

/// Time-ordered 80-bit ids in 16 lowercase base-32 digits, e.g. `m-06h39dcyt8nkrkay`, for
/// production: the first 48 bits are the milliseconds since the Unix epoch, the last 32 start
/// at a random value in each millisecond.
///
/// Each id is greater than every id before it, in the process and, through
/// ``resume(after:)``, in the store, also when the clock steps back; the digits' alphabet is
/// in ASCII order, so ids sort as strings the way they were made. Tables keyed by them
/// (conversations, messages) therefore take each new key at their end, on the page the last
/// one went to, instead of on a random page.
public final class TimeOrderedIDs: IDSource {
    private let clock: () -> Int64
    private var generator: SplitMix64
    private var last: UInt128 = 0
    static let digits = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// Creates a source reading `clock` (milliseconds since the Unix epoch).
    public init(clock: @escaping () -> Int64) {
        self.clock = clock
        var system = SystemRandomNumberGenerator()
        generator = SplitMix64(seed: system.next())
    }

    /// A new id, greater than every one before it.
    public func next(_ kind: IDKind) -> String {
        let millis = UInt128(UInt64(max(0, clock())) & 0xFFFF_FFFF_FFFF)
        // 31 random bits leave room to count up within the millisecond.
        var value = millis << 32 | UInt128(generator.next() >> 33)
        if value <= last { value = last &+ 1 }
        last = value
        return kind.prefix + Self.text(of: value)
    }

    /// Continues after the greatest of `existing` that is an id of this form.
    public func resume(after existing: [String]) {
        for id in existing {
            if let value = Self.value(of: id), value > last { last = value }
        }
    }

    /// The 16 digits of the low 80 bits of `value`.
    static func text(of value: UInt128) -> String {
        var value = value
        var out = [UInt8](repeating: 0, count: 16)
        for index in (0..<16).reversed() {
            out[index] = digits[Int(value & 31)]
            value >>= 5
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The value of an id `c-…` or `m-…` of 16 digits, or nil when it is not of this form.
    static func value(of id: String) -> UInt128? {
        let bytes = Array(id.utf8)
        guard bytes.count == 18, bytes[1] == UInt8(ascii: "-") else { return nil }
        var value: UInt128 = 0
        for byte in bytes[2...] {
            guard let digit = digits.firstIndex(of: byte) else { return nil }
            value = value << 5 | UInt128(digit)
        }
        return value
    }
}
