public import LMDB

/// Failures of the event log and projection store.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// LMDB refused an operation.
    case storage(LMDBError)
    /// A stored event or record does not decode; the log may be damaged.
    case corrupt(position: UInt64?, reason: String)
    /// The data directory is not a Parley data directory of a format this build reads.
    case incompatibleFormat(found: String)
    /// The map cannot grow past the configured maximum; retry once space is freed.
    case full(mapSize: Int)
    /// A write was attempted on a store opened read-only.
    case readOnly

    /// For a person.
    public var description: String {
        switch self {
        case .storage(let error): "storage error: \(error)"
        case .corrupt(let position, let reason):
            position.map { "log damaged at position \($0): \(reason)" } ?? "store damaged: \(reason)"
        case .incompatibleFormat(let found): "unsupported data format \"\(found)\""
        case .full(let size): "the store is full at \(size) bytes and may not grow further"
        case .readOnly: "the store is open read-only"
        }
    }
}
