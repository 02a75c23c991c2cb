public import LMDB
import ParleyCore

/// Failures of the event log and projection store.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// LMDB refused an operation.
    case storage(LMDBError)
    /// A file-system call failed (creating a directory, renaming a finished file, fsync).
    case system(SystemError)
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
        case .system(let error): "\(error)"
        case .corrupt(let position, let reason):
            position.map { "log damaged at position \($0): \(reason)" } ?? "store damaged: \(reason)"
        case .incompatibleFormat(let found): "unsupported data format \"\(found)\""
        case .full(let size): "the store is full at \(size) bytes and may not grow further"
        case .readOnly: "the store is open read-only"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension StoreError {
    /// Whether `error` plainly means the disk has no room for a write: the device is full
    /// (`ENOSPC`), a quota is exhausted (`EDQUOT`), the process's file-size limit is reached
    /// (`EFBIG`), or the map may grow no further (``full(mapSize:)``). See also
    /// ``Engine/isOutOfSpace(_:)``, which also recognises a short write (`EIO`) on a full disk.
    public static func isOutOfSpace(_ error: any Error) -> Bool {
        switch error {
        case let error as StoreError:
            switch error {
            case .full: true
            case .storage(let error): isOutOfSpace(error)
            case .system(let error): [ENOSPC, EFBIG, EDQUOT].contains(error.code)
            default: false
            }
        case let error as LMDBError: [ENOSPC, EFBIG, EDQUOT].contains(error.code.rawValue)
        default: false
        }
    }
}

extension StoreError {
    /// Whether `error` means a file of the data directory is damaged or not in a format this build
    /// reads (the offline tools' exit status 1), as opposed to a usage, permission or I/O failure.
    public static func isDamage(_ error: any Error) -> Bool {
        switch error {
        // An event the projections cannot apply: the log is inconsistent (replay and rebuild do
        // not check the chain; audit verify names the damaged event).
        case is BinaryDecodingError, is ProjectionError: true
        case let error as LMDBError: OpenChecks.isDamage(error)
        case let error as StoreError:
            switch error {
            case .corrupt, .incompatibleFormat: true
            case .storage(let error): OpenChecks.isDamage(error)
            default: false
            }
        default: false
        }
    }
}
