import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ParleyProtocol
import Testing

@testable import ParleyWeb

@Suite("The gateway over HTTP: sign-in, cookies, origins, the throttle")
struct GatewayHTTPTests {
    static let origin = "http://desk.test"

    static func gateway() throws -> (WebGateway, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-web-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var store = try CredentialStore(path: directory + "/credentials")
        try store.setPassword(agent: "alice", password: "alice-password", cost: 4)
        var configuration = GatewayConfiguration(
            socketPath: directory + "/none.sock", credentialsPath: directory + "/credentials")
        configuration.port = 0
        configuration.allowedOrigins = [origin]
        configuration.failedSignIns = 3
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return (try WebGateway(configuration: configuration, logger: logger), directory)
    }

    static func login(_ agent: String, _ password: String, origin: String? = GatewayHTTPTests.origin) -> (
        HTTPFields, ByteBuffer
    ) {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let origin { headers[.origin] = origin }
        return (
            headers,
            ByteBuffer(string: JSONValue.object(["agentId": .string(agent), "password": .string(password)]).jsonText)
        )
    }

    @Test("a right password sets an HttpOnly, SameSite=Strict, expiring cookie; a wrong one gets 401 and no cookie")
    func signIn() async throws {
        let (gateway, directory) = try Self.gateway()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await gateway.application().test(.live) { client in
            let (headers, wrong) = Self.login("alice", "guess")
            try await client.execute(uri: "/api/login", method: .post, headers: headers, body: wrong) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.setCookie] == nil)
                #expect(String(buffer: response.body).contains("WrongCredentials"))
            }
            let (_, right) = Self.login("alice", "alice-password")
            let cookie = try await client.execute(uri: "/api/login", method: .post, headers: headers, body: right) {
                response in
                #expect(response.status == .ok)
                let cookie = try #require(response.headers[.setCookie])
                #expect(cookie.contains("HttpOnly"))
                #expect(cookie.contains("SameSite=Strict"))
                #expect(cookie.contains("Max-Age=43200"))
                #expect(cookie.contains("Path=/"))
                return String(cookie.prefix { $0 != ";" })
            }
            try await client.execute(uri: "/api/session", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"agentId":"alice"}"#)
            }
            try await client.execute(uri: "/api/session", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(
                uri: "/api/logout", method: .post, headers: [.cookie: cookie, .origin: Self.origin]
            ) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.setCookie]?.contains("Max-Age=0") == true)
            }
            try await client.execute(uri: "/api/session", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .unauthorized, "the session ended")
            }
        }
    }

    @Test("a sign-in from another origin, or without one, is refused; every response forbids other origins' content")
    func origins() async throws {
        let (gateway, directory) = try Self.gateway()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await gateway.application().test(.live) { client in
            for origin in ["http://evil.example", nil] {
                let (headers, body) = Self.login("alice", "alice-password", origin: origin)
                try await client.execute(uri: "/api/login", method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .forbidden)
                    #expect(response.headers[.setCookie] == nil)
                }
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            }
        }
    }

    @Test("after too many failed sign-ins the agent waits (429 with Retry-After), even with the right password")
    func throttle() async throws {
        let (gateway, directory) = try Self.gateway()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await gateway.application().test(.live) { client in
            let (headers, wrong) = Self.login("alice", "guess")
            for _ in 0..<3 {
                try await client.execute(uri: "/api/login", method: .post, headers: headers, body: wrong) { response in
                    #expect(response.status == .unauthorized)
                }
            }
            let (_, right) = Self.login("alice", "alice-password")
            try await client.execute(uri: "/api/login", method: .post, headers: headers, body: right) { response in
                #expect(response.status == .tooManyRequests)
                #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 > 0)
                #expect(response.headers[.setCookie] == nil)
            }
        }
    }
}
