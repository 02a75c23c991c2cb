/// The role a connection acts in; granted by the daemon from the peer's uid and groups.
public enum Role: String, Sendable, Hashable, Codable, ByteCodedEnum {
    case admin
    case frontend
    case carrier
    case auditor
    /// The engine itself (demo seeding, tools).
    case system

    /// The stored byte.
    public var byteCode: UInt8 {
        switch self {
        case .admin: 0
        case .frontend: 1
        case .carrier: 2
        case .auditor: 3
        case .system: 4
        }
    }
}

/// Who caused an event: the Unix uid of the peer and the role it acted in.
public struct Actor: Sendable, Hashable, Codable, BinaryCodable {
    /// The peer's Unix user id.
    public var uid: UInt32
    /// The role the command was accepted under.
    public var role: Role

    /// Creates an actor.
    public init(uid: UInt32, role: Role) {
        self.uid = uid
        self.role = role
    }

    /// The engine acting on its own behalf.
    public static let system = Actor(uid: 0, role: .system)

    /// Writes uid (varint) and role.
    public func encode(to writer: inout BinaryWriter) {
        writer.writeVarint(UInt64(uid))
        writer.write(role)
    }

    /// Reads uid and role.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        let raw = try reader.readVarint()
        guard let uid = UInt32(exactly: raw) else { throw BinaryDecodingError(reason: "uid \(raw) out of range") }
        self.uid = uid
        role = try reader.read()
    }
}
