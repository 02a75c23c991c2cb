import LMDB
#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    /// Free bytes under which an I/O error on a commit is taken for a full disk.
    static let nearlyFull = 64 << 20

    /// Whether `error`, thrown by ``execute(_:deferringProjections:)``, means there is no room to write: the map may
    /// grow no further, the device is full (`ENOSPC`), a quota is exhausted (`EDQUOT`), the
    /// file-size limit is reached (`EFBIG`), or LMDB reports `EIO` for a short write while the
    /// disk is nearly full or a file is at its size limit. LMDB aborts the transaction and stays
    /// usable, so the same command succeeds once space is freed.
    public func isOutOfSpace(_ error: any Error) -> Bool {
        guard StoreError.isOutOfSpace(error) == false else { return true }
        let code: Int32? = switch error {
        case let error as LMDBError: error.code.rawValue
        case StoreError.storage(let error): error.code.rawValue
        default: nil
        }
        guard code == EIO else { return false }
        var volume = statvfs()
        if statvfs(directory, &volume) == 0, Int(volume.f_bavail) * Int(volume.f_frsize) < Self.nearlyFull { return true }
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return false }
        return [Self.logFile, Self.projectionsFile].contains { file in
            var status = stat()
            guard stat(DataDirectory(directory).file(file), &status) == 0 else { return false }
            return UInt64(status.st_size) + (1 << 20) >= UInt64(limit.rlim_cur)
        }
    }
}
