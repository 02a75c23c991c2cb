import Foundation
import ParleyStore
#if canImport(Glibc)
import Glibc
#endif

/// Startup checks for the socket and the data directory, each failing with a sentence
/// an operator can act on.
public enum StartupCheck {
    /// A startup problem.
    public struct Failure: Error, CustomStringConvertible {
        /// What is wrong and what to do.
        public let description: String

        /// A failure described by `description`.
        public init(description: String) { self.description = description }
    }

    /// Makes sure the data directory exists and this user may write it. A missing directory
    /// is created (mode 0750) when its parent exists; a missing parent is refused, since a
    /// mistyped path should not grow a tree. A directory this user cannot write, or one on a
    /// read-only file system, is refused before anything is opened.
    /// - Returns: Whether the directory was created.
    @discardableResult
    public static func prepareDataDirectory(_ path: String) throws -> Bool {
        var created = false
        var info = stat()
        if stat(path, &info) != 0 {
            guard errno == ENOENT else {
                throw Failure(description: "cannot reach the data directory \(path): \(SystemError.reason())")
            }
            let parent = (path as NSString).deletingLastPathComponent
            var parentInfo = stat()
            guard stat(parent.isEmpty ? "." : parent, &parentInfo) == 0, parentInfo.st_mode & S_IFMT == S_IFDIR else {
                throw Failure(description: """
                    the data directory \(path) does not exist, nor does its parent \(parent); \
                    create it first (mkdir -p \(path)) or correct --data
                    """)
            }
            guard mkdir(path, 0o750) == 0 else {
                throw Failure(description: "cannot create the data directory \(path): \(SystemError.reason())")
            }
            created = true
        }
        guard access(path, W_OK | X_OK) == 0 else {
            throw Failure(description: """
                the data directory \(path) is not writable (\(SystemError.reason())); \
                parleyd keeps its log there: fix its permissions or mount, or choose another --data
                """)
        }
        return created
    }

    /// Refuses a directory that is group- or world-writable (others could replace the socket).
    public static func requirePrivateDirectory(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Failure(description: "the directory \(path) does not exist or cannot be read (\(SystemError.reason()))")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw Failure(description: "\(path) is not a directory") }
        guard info.st_mode & 0o022 == 0 else {
            throw Failure(description: String(
                format: "the directory %@ is group- or world-writable (mode %o); run chmod go-w on it", path, info.st_mode & 0o7777
            ))
        }
    }

    /// Removes a stale socket at `path`; refuses when a daemon answers there or when the path is not a socket.
    public static func clearStaleSocket(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw Failure(description: "\(path) exists and is not a socket; it was left untouched. Remove it or choose another --socket")
        }
        if socketAnswers(path) {
            throw Failure(description: "another daemon is listening on \(path); stop it first or choose another --socket")
        }
        guard unlink(path) == 0 else {
            throw Failure(description: "cannot remove the stale socket \(path): \(SystemError.reason())")
        }
    }

    private static func socketAnswers(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }
}
