import CLMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error reported by an LMDB C function, carrying its return code and the failing operation.
///
/// Modelled on swift-system's `Errno`: every non-zero return code of the C library is turned
/// into one of these by ``check(_:_:)`` and thrown with a typed `throws(LMDBError)`.
public struct LMDBError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An LMDB (`MDB_*`) or POSIX (`errno`) return code.
    public struct Code: RawRepresentable, Hashable, Sendable {
        /// The raw C return code.
        public let rawValue: Int32

        /// Creates a code from a raw C return code.
        ///
        /// - Parameter rawValue: The value returned by an LMDB function.
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// `MDB_KEYEXIST`: the key already exists (also out-of-order `append`).
        public static let keyExists = Code(rawValue: MDB_KEYEXIST)
        /// `MDB_NOTFOUND`: no matching key or data.
        public static let notFound = Code(rawValue: MDB_NOTFOUND)
        /// `MDB_PAGE_NOTFOUND`: a requested page was not found (usually corruption).
        public static let pageNotFound = Code(rawValue: MDB_PAGE_NOTFOUND)
        /// `MDB_CORRUPTED`: a located page was of the wrong type.
        public static let corrupted = Code(rawValue: MDB_CORRUPTED)
        /// `MDB_PANIC`: a fatal error occurred earlier; the environment must be closed.
        public static let panic = Code(rawValue: MDB_PANIC)
        /// `MDB_VERSION_MISMATCH`: the environment was written by an incompatible LMDB version.
        public static let versionMismatch = Code(rawValue: MDB_VERSION_MISMATCH)
        /// `MDB_INVALID`: the file is not an LMDB data file.
        public static let invalid = Code(rawValue: MDB_INVALID)
        /// `MDB_MAP_FULL`: the environment's map size has been reached; grow it with `setMapSize`.
        public static let mapFull = Code(rawValue: MDB_MAP_FULL)
        /// `MDB_DBS_FULL`: `maxDatabases` has been reached.
        public static let databasesFull = Code(rawValue: MDB_DBS_FULL)
        /// `MDB_READERS_FULL`: `maxReaders` has been reached.
        public static let readersFull = Code(rawValue: MDB_READERS_FULL)
        /// `MDB_TXN_FULL`: the transaction has too many dirty pages.
        public static let txnFull = Code(rawValue: MDB_TXN_FULL)
        /// `MDB_MAP_RESIZED`: another process grew the map beyond this process's map size.
        public static let mapResized = Code(rawValue: MDB_MAP_RESIZED)
        /// `MDB_INCOMPATIBLE`: the operation is incompatible with the database (e.g. flags differ).
        public static let incompatible = Code(rawValue: MDB_INCOMPATIBLE)
        /// `MDB_BAD_RSLOT`: invalid reuse of a reader lock-table slot.
        public static let badReaderSlot = Code(rawValue: MDB_BAD_RSLOT)
        /// `MDB_BAD_TXN`: the transaction has ended or must be aborted.
        public static let badTransaction = Code(rawValue: MDB_BAD_TXN)
        /// `MDB_BAD_VALSIZE`: a key or value has an unsupported size (e.g. an empty key).
        public static let badValueSize = Code(rawValue: MDB_BAD_VALSIZE)
        /// `MDB_BAD_DBI`: the database handle was changed unexpectedly.
        public static let badDatabase = Code(rawValue: MDB_BAD_DBI)
        /// `EIO`: a low-level I/O error.
        public static let ioError = Code(rawValue: EIO)
        /// `ENOSPC`: no space left on the device.
        public static let noSpace = Code(rawValue: ENOSPC)
        /// `EACCES`: permission denied, or a write was attempted in a read-only environment.
        public static let accessDenied = Code(rawValue: EACCES)
        /// `ENOENT`: the path (or its directory) does not exist.
        public static let noSuchFile = Code(rawValue: ENOENT)
        /// `EBUSY`: the resource is busy.
        public static let busy = Code(rawValue: EBUSY)
        /// `EROFS`: the file system is read-only.
        public static let readOnly = Code(rawValue: EROFS)
        /// `EINVAL`: an invalid argument was passed.
        public static let invalidArgument = Code(rawValue: EINVAL)
    }

    /// The return code.
    public let code: Code
    /// The C function that failed, e.g. `"mdb_env_open"` or `"mdb_put"`.
    public let operation: String
    /// The data file's name, when the error came from opening it (`"log.mdb"`).
    public var file: String?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The return code.
    ///   - operation: The name of the failing C function.
    public init(_ code: Code, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// The operation followed by LMDB's message for the code, e.g. `"mdb_put: MDB_MAP_FULL: …"`.
    public var description: String {
        let message = mdb_strerror(code.rawValue).map { String(cString: $0) } ?? "unknown error"
        return "\(operation)\(file.map { " of \($0)" } ?? "") failed: \(message) (code \(code.rawValue))"
    }

    /// Whether this is `MDB_MAP_FULL`, i.e. the map must be grown before retrying.
    public var isMapFull: Bool { code == .mapFull }
}
