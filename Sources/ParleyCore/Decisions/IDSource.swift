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

/// Random 128-bit ids, e.g. `m-3f9c0a…` (32 hex digits), for production.
public final class RandomIDs: IDSource {
    private var generator = SystemRandomNumberGenerator()

    /// Creates a source.
    public init() {}

    /// A new random id.
    public func next(_ kind: IDKind) -> String {
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return kind.prefix + hex(high) + hex(low)
    }

    private func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
