import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import ParleyWeb

@Suite("Sessions, the sign-in throttle and the credential file")
struct SessionTests {
    @Test("a session is a random token the store keeps only as a hash; it expires, and ends on sign-out")
    func sessions() {
        let store = SessionStore(lifetime: .seconds(60), maxPerAgent: 5)
        let start = ContinuousClock.now
        let token = store.create(agentId: "alice", now: start)
        let other = store.create(agentId: "alice", now: start)
        #expect(token != other)
        #expect(token.count == 43, "256 bits, base64url")
        let session = store.session(token: token, now: start + .seconds(59))
        #expect(session?.agentId == "alice")
        #expect(session?.id == SessionStore.id(of: token))
        #expect(session?.id.contains(token) == false)
        #expect(store.session(token: token, now: start + .seconds(60)) == nil, "expired")
        #expect(store.session(token: "made-up", now: start) == nil)
        #expect(store.session(token: nil, now: start) == nil)
        let ended = NIOLockedValueBox(false)
        _ = store.whenEnded(SessionStore.id(of: other)) { ended.withLockedValue { $0 = true } }
        store.end(token: other)
        #expect(ended.withLockedValue { $0 }, "its sockets are told")
        #expect(store.session(token: other, now: start) == nil)
    }

    @Test("signing in once more than an agent's limit ends its oldest session")
    func sessionsPerAgent() {
        let store = SessionStore(lifetime: .seconds(600), maxPerAgent: 2)
        let start = ContinuousClock.now
        let first = store.create(agentId: "alice", now: start)
        let second = store.create(agentId: "alice", now: start + .seconds(1))
        let bobs = store.create(agentId: "bob", now: start + .seconds(2))
        let third = store.create(agentId: "alice", now: start + .seconds(3))
        let now = start + .seconds(4)
        #expect(store.session(token: first, now: now) == nil)
        #expect(store.session(token: second, now: now) != nil)
        #expect(store.session(token: third, now: now) != nil)
        #expect(store.session(token: bobs, now: now) != nil)
    }

    @Test("failed sign-ins past the limit wait until the oldest leaves the window; a success clears the agent's")
    func throttle() {
        var throttle = LoginThrottle(limit: 3, window: .seconds(100))
        let start = ContinuousClock.now
        for i in 0..<3 {
            #expect(throttle.wait(for: ["agent:alice"], now: start + .seconds(i)) == nil)
            throttle.failed(["agent:alice", "address:1"], now: start + .seconds(i))
        }
        #expect(throttle.wait(for: ["agent:alice"], now: start + .seconds(10)) == .seconds(90))
        #expect(throttle.wait(for: ["agent:bob"], now: start + .seconds(10)) == nil, "another agent is not held up")
        #expect(throttle.wait(for: ["address:1"], now: start + .seconds(10), limit: 30) == nil, "an address gets more")
        #expect(throttle.wait(for: ["agent:alice"], now: start + .seconds(100)) == nil, "the oldest left the window")
        throttle.failed(["agent:alice"], now: start + .seconds(101))
        throttle.succeeded("agent:alice")
        #expect(throttle.wait(for: ["agent:alice"], now: start + .seconds(102)) == nil)
    }

    @Test("the credential file: bcrypt hashes only, mode 0600; a readable file or a bad line is refused")
    func credentials() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-web-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/credentials"
        var store = try CredentialStore(path: path)
        try store.setPassword(agent: "alice", password: "correct horse", cost: 4)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("correct horse"))
        #expect(text.hasPrefix("alice:$2b$04$"))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let reread = try CredentialStore(path: path)
        #expect(reread.verify(agent: "alice", password: "correct horse"))
        #expect(!reread.verify(agent: "alice", password: "correct horsE"))
        #expect(!reread.verify(agent: "mallory", password: "correct horse"))
        #expect(throws: CredentialStore.Failure.self) {
            try store.setPassword(agent: "alice", password: "short", cost: 4)
        }
        #expect(throws: CredentialStore.Failure.self) {
            try store.setPassword(agent: "not an id", password: "long enough", cost: 4)
        }
        #expect(try store.remove(agent: "alice"))
        #expect(try !store.remove(agent: "alice"))
        #expect(try CredentialStore(path: path).agents.isEmpty)

        chmod(path, 0o644)
        #expect(throws: CredentialStore.Failure.self) { try CredentialStore(path: path) }
        chmod(path, 0o600)
        try "alice:not-a-hash\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: CredentialStore.Failure.self) { try CredentialStore(path: path) }
    }
}
