/// A Parley data directory and the files it holds: the event log, the projections, the
/// daemon's lock and its default socket.
public struct DataDirectory: Sendable, Hashable, CustomStringConvertible {
    /// The directory's path as given.
    public let path: String

    /// The data directory at `path`.
    public init(_ path: String) { self.path = path }

    /// The event log, `log.mdb`.
    public var log: String { file(Engine.logFile) }
    /// The projections, `projections.mdb`.
    public var projections: String { file(Engine.projectionsFile) }
    /// The file a running daemon holds locked, `parleyd.lock`.
    public var lock: String { file("parleyd.lock") }
    /// The daemon's socket when `--socket` is not given, `parleyd.sock`.
    public var socket: String { file("parleyd.sock") }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { path.hasSuffix("/") ? path + name : path + "/" + name }

    /// The path.
    public var description: String { path }
}
