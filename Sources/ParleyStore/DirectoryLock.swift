import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a data directory (`parleyd.lock`, `flock`), held for the daemon's life.
public final class DirectoryLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock or fails naming the directory.
    public init(directory: String) throws {
        let path = DataDirectory(directory).lock
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw DirectoryLockError(description: "cannot open \(path): \(SystemError.reason())")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw DirectoryLockError(description: "another parleyd holds the data directory \(directory); stop it first")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Whether another process holds the lock on `directory` (for tools that must not run beside a daemon).
    public static func isHeld(directory: String) -> Bool {
        let fd = open(DataDirectory(directory).lock, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }
}

/// The data directory is locked by another process, or the lock file cannot be opened.
public struct DirectoryLockError: Error, CustomStringConvertible {
    /// What is wrong and what to do.
    public let description: String
}
