import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads who is on the other end of a Unix-domain connection.
enum PeerCredentials {
    /// The peer's uid, gid and pid from `SO_PEERCRED`, and its supplementary groups from the group database.
    static func of(_ channel: any Channel) async throws -> (uid: UInt32, gids: [UInt32], pid: Int32) {
        guard let provider = channel as? any SocketOptionProvider else { throw PeerCredentialsUnavailable() }
        let credentials: UCred = try await provider.unsafeGetSocketOption(
            level: .socket, name: NIOBSDSocket.Option(rawValue: peerCredentialsOption)
        ).get()
        var gids = [credentials.gid]
        gids += supplementaryGroups(uid: credentials.uid, gid: credentials.gid).filter { $0 != credentials.gid }
        return (credentials.uid, gids, credentials.pid)
    }

    private static func supplementaryGroups(uid: uid_t, gid: gid_t) -> [UInt32] {
        var buffer = [CChar](repeating: 0, count: 4096)
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, let user = result?.pointee.pw_name else { return [] }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(user, gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(user, gid, &groups, &count) >= 0 else { return [] }
        }
        return Array(groups.prefix(Int(count)))
    }
}

/// Linux's `struct ucred` (hidden behind `_GNU_SOURCE` in the C headers Swift imports).
struct UCred: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// Linux's `SO_PEERCRED`.
let peerCredentialsOption: Int32 = 17

/// The channel does not expose socket options.
struct PeerCredentialsUnavailable: Error {}
