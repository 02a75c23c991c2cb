public import ParleyCore

/// Grants roles to a connection's peer from its uid and groups.
///
/// The daemon's own uid and root are always admin. Other grants come from options
/// (`--frontend-uid`, `--carrier-group`, …). A peer with no grant has no role: it may call
/// only `session.hello`, `server.info` and `rpc.discover`, and every other method refuses it.
public struct RolePolicy: Sendable, Hashable {
    /// Uids granted each role.
    public var uids: [Role: Set<UInt32>]
    /// Gids granted each role.
    public var gids: [Role: Set<UInt32>]
    /// The daemon's own uid (admin).
    public var ownUid: UInt32

    /// Creates a policy.
    public init(ownUid: UInt32, uids: [Role: Set<UInt32>] = [:], gids: [Role: Set<UInt32>] = [:]) {
        self.ownUid = ownUid
        self.uids = uids
        self.gids = gids
    }

    /// The roles of a peer, in a fixed order (admin, frontend, carrier, auditor).
    public func roles(uid: UInt32, gids peerGids: [UInt32]) -> [Role] {
        var granted: [Role] = []
        for role in [Role.admin, .frontend, .carrier, .auditor] {
            let byUid = uids[role]?.contains(uid) ?? false
            let byGid = peerGids.contains { gids[role]?.contains($0) ?? false }
            let isAdmin = role == .admin && (uid == 0 || uid == ownUid)
            if byUid || byGid || isAdmin { granted.append(role) }
        }
        return granted
    }
}

/// Who is on the other end of a connection.
public struct Peer: Sendable, Hashable {
    /// The peer's uid (from `SO_PEERCRED`).
    public var uid: UInt32
    /// The peer's primary gid and supplementary groups.
    public var gids: [UInt32]
    /// The peer's process id, 0 when unknown.
    public var pid: Int32
    /// The roles granted.
    public var roles: [Role]

    /// Creates a peer.
    public init(uid: UInt32, gids: [UInt32], pid: Int32, roles: [Role]) {
        self.uid = uid
        self.gids = gids
        self.pid = pid
        self.roles = roles
    }

    /// The actor recorded on events this peer causes: its uid and the first role that allows `method`.
    func actor(for allowed: Set<Role>) -> Actor {
        Actor(uid: uid, role: roles.first { allowed.contains($0) } ?? .system)
    }
}
