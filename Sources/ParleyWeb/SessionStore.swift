import Crypto
public import Foundation
import NIOConcurrencyHelpers

/// The signed-in browser sessions. A session is a random 256-bit token the browser holds in an
/// `HttpOnly`, `SameSite=Strict` cookie; the gateway keeps only its SHA-256, so a memory dump
/// or a log line never shows a usable token. Sessions live in memory: a gateway restart signs
/// everyone out.
public final class SessionStore: Sendable {
    /// One signed-in agent.
    public struct Session: Sendable, Hashable {
        /// The hash of the token, the session's id (safe to log).
        public let id: String
        /// Whom the session acts as.
        public let agentId: String
        /// When it ends, however active it is.
        public let expires: ContinuousClock.Instant
        let created: ContinuousClock.Instant
    }

    /// How long a session lasts.
    public let lifetime: Duration
    /// Sessions one agent may hold; signing in once more ends the oldest.
    public let maxPerAgent: Int

    private struct State {
        var sessions: [String: Session] = [:]
        /// What to call when a session ends, so its WebSockets close.
        var onEnd: [String: [UUID: @Sendable () -> Void]] = [:]
    }

    private let state = NIOLockedValueBox(State())

    public init(lifetime: Duration = .seconds(12 * 3600), maxPerAgent: Int = 5) {
        self.lifetime = lifetime
        self.maxPerAgent = maxPerAgent
    }

    /// Starts a session for `agentId` and returns the token for its cookie.
    public func create(agentId: String, now: ContinuousClock.Instant = .now) -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = generator.next() }
        let token = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let session = Session(id: Self.id(of: token), agentId: agentId, expires: now + lifetime, created: now)
        let ended: [@Sendable () -> Void] = state.withLockedValue { state in
            state.sessions[session.id] = session
            let mine = state.sessions.values.filter { $0.agentId == agentId }.sorted { $0.created < $1.created }
            var ended: [@Sendable () -> Void] = []
            for old in mine.dropLast(maxPerAgent) { ended += Self.end(old.id, in: &state) }
            return ended
        }
        for action in ended { action() }
        return token
    }

    /// The live session `token` names, or nil (unknown, ended or expired).
    public func session(token: String?, now: ContinuousClock.Instant = .now) -> Session? {
        guard let token, !token.isEmpty, token.utf8.count <= 64 else { return nil }
        let id = Self.id(of: token)
        let (session, ended): (Session?, [@Sendable () -> Void]) = state.withLockedValue { state in
            guard let session = state.sessions[id] else { return (nil, []) }
            if session.expires <= now { return (nil, Self.end(id, in: &state)) }
            return (session, [])
        }
        for action in ended { action() }
        return session
    }

    /// Ends the session `token` names (sign-out); its WebSockets are told to close.
    public func end(token: String?) {
        guard let token else { return }
        let id = Self.id(of: token)
        let ended = state.withLockedValue { Self.end(id, in: &$0) }
        for action in ended { action() }
    }

    /// Calls `action` when session `id` ends; the returned key removes it.
    public func whenEnded(_ id: String, _ action: @escaping @Sendable () -> Void) -> UUID? {
        let key = UUID()
        let live = state.withLockedValue { state -> Bool in
            guard state.sessions[id] != nil else { return false }
            state.onEnd[id, default: [:]][key] = action
            return true
        }
        return live ? key : nil
    }

    /// Forgets an action registered with ``whenEnded(_:_:)``.
    public func cancel(_ key: UUID, of id: String) {
        state.withLockedValue { _ = $0.onEnd[id]?.removeValue(forKey: key) }
    }

    /// How many sessions are live.
    public var count: Int { state.withLockedValue { $0.sessions.count } }

    private static func end(_ id: String, in state: inout State) -> [@Sendable () -> Void] {
        state.sessions[id] = nil
        return Array((state.onEnd.removeValue(forKey: id) ?? [:]).values)
    }

    static func id(of token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
