import Foundation
import ParleyStore

#if canImport(Glibc)
    import Glibc
#endif

/// Who may open a socket the daemon creates: its permission bits and its group. Connecting to
/// a Unix socket needs write permission on it, so the group that may connect needs `0o020`.
public struct SocketAccess: Sendable, Equatable {
    /// The permission bits (`0o660` by default: the owner and the group).
    public var mode: UInt32
    /// The socket's group (gid); `nil` keeps the daemon's primary group.
    public var group: UInt32?

    /// Owner and group may connect; the group is the daemon's unless `group` names another.
    public init(mode: UInt32 = 0o660, group: UInt32? = nil) {
        self.mode = mode
        self.group = group
    }

    /// Parses a mode given in octal (`660`, `0660`, `0o660`): only permission bits, and
    /// at least the owner's read and write, or the daemon's own tools could not connect.
    public static func mode(parsing text: String) -> UInt32? {
        var digits = Substring(text)
        if digits.hasPrefix("0o") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, let mode = UInt32(digits, radix: 8), mode <= 0o777, mode & 0o600 == 0o600 else {
            return nil
        }
        return mode
    }

    /// Gives the socket at `path` its group, then its mode.
    /// - Throws: ``StartupCheck/Failure`` naming the socket and what to do.
    func apply(to path: String) throws {
        if let group, chown(path, uid_t.max, group) != 0 {
            throw StartupCheck.Failure(
                description: """
                    cannot give the socket \(path) to group \(group): \(SystemError.reason()); \
                    parleyd's user must be a member of that group (or run as root) to use --socket-group
                    """)
        }
        guard chmod(path, mode_t(mode)) == 0 else {
            throw StartupCheck.Failure(
                description: "cannot set the mode of the socket \(path): \(SystemError.reason())")
        }
    }
}

/// A listening socket passed by a service manager (systemd socket activation: `LISTEN_PID`,
/// `LISTEN_FDS`, the sockets from descriptor 3 on), as `sd_listen_fds(3)` describes.
public struct ActivatedSocket: Sendable {
    /// The listening descriptor.
    public let descriptor: Int32
    /// The path it is bound to.
    public let path: String

    /// The first passed descriptor, `SD_LISTEN_FDS_START`.
    static let firstDescriptor: Int32 = 3

    /// The socket passed to this process, if any; the variables are removed so that processes
    /// this one starts do not take them as theirs.
    /// - Returns: nil when nothing was passed (no `LISTEN_PID`, or another process's).
    /// - Throws: ``StartupCheck/Failure`` when what was passed is not one listening Unix stream socket.
    public static func fromEnvironment() throws -> Self? {
        let environment = ProcessInfo.processInfo.environment
        guard let pid = environment["LISTEN_PID"], pid_t(pid) == getpid() else { return nil }
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
        guard let count = environment["LISTEN_FDS"].flatMap({ Int($0) }), count == 1 else {
            throw StartupCheck.Failure(
                description: """
                    the service manager passed \(environment["LISTEN_FDS"] ?? "no") sockets (LISTEN_FDS); \
                    parleyd listens on exactly one: give its .socket unit one ListenStream= with a path
                    """)
        }
        let fd = firstDescriptor
        guard let path = unixStreamListenerPath(fd) else {
            throw StartupCheck.Failure(
                description: """
                    the socket the service manager passed (descriptor \(fd)) is not a listening Unix stream socket; \
                    use ListenStream=/path/to/parleyd.sock in the .socket unit
                    """)
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return ActivatedSocket(descriptor: fd, path: path)
    }

    /// The path of `fd` when it is a listening `AF_UNIX` stream socket bound to a path.
    private static func unixStreamListenerPath(_ fd: Int32) -> String? {
        func option(_ name: Int32) -> Int32? {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(fd, SOL_SOCKET, name, &value, &length) == 0 ? value : nil
        }
        guard option(SO_TYPE) == Int32(SOCK_STREAM.rawValue), option(SO_ACCEPTCONN) == 1 else { return nil }
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0, address.sun_family == sa_family_t(AF_UNIX) else { return nil }
        let path = withUnsafeBytes(of: &address.sun_path) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return path.isEmpty ? nil : path  // an abstract or unnamed socket has no path to report
    }
}
