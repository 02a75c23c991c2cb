import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdWebSocket
public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ParleyProtocol

/// `parley-web`: the page's static files, sign-in and sign-out, and the WebSocket through which
/// a signed-in page talks to `parleyd` as its agent (``BrowserSession``).
///
/// | route | what |
/// |---|---|
/// | `GET /`, `/app.js`, … | the page (public: it holds no data) |
/// | `GET /api/session` | `{agentId}` of the cookie's session, or 401 |
/// | `POST /api/login` | `{agentId, password}`: sets the session cookie, or 401 / 429 |
/// | `POST /api/logout` | ends the session and clears the cookie |
/// | `GET /ws` | the WebSocket; needs the cookie and an allowed `Origin` |
public final class WebGateway: Sendable {
    /// The session cookie's name.
    public static let cookieName = "parley_session"

    public let configuration: GatewayConfiguration
    public let sessions: SessionStore
    private let throttle: NIOLockedValueBox<LoginThrottle>
    private let sockets = NIOLockedValueBox<[String: Int]>([:])
    private let logger: Logger

    /// Checks the credential file (its mode and format) and prepares the gateway.
    public init(configuration: GatewayConfiguration, logger: Logger) throws(CredentialStore.Failure) {
        self.configuration = configuration
        self.logger = logger
        _ = try CredentialStore(path: configuration.credentialsPath)
        sessions = SessionStore(lifetime: configuration.sessionLifetime, maxPerAgent: configuration.maxSessionsPerAgent)
        throttle = NIOLockedValueBox(
            LoginThrottle(limit: configuration.failedSignIns, window: configuration.throttleWindow))
    }

    /// The application to run; `onRunning` receives the bound port.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: GatewayContext.self)
        router.middlewares.add(SecurityHeaders())
        if let page = configuration.pageDirectory ?? GatewayConfiguration.builtInPage {
            router.middlewares.add(
                FileMiddleware(
                    page, cacheControl: .init([(MediaType(type: .any), [.noCache])]), searchForIndexHtml: true,
                    logger: logger))
        }
        let api = router.group("api")
        api.get("session") { request, _ in try self.currentSession(request) }
        api.post("login") { request, context in try await self.login(request, context) }
        api.post("logout") { request, _ in try self.logout(request) }

        let sockets = Router(context: GatewayContext.self)
        sockets.middlewares.add(SessionCheck(gateway: self))
        sockets.ws("ws") { _, _ in
            .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            guard let session = context.requestContext.session else { return }
            guard self.socketOpened(session.agentId) else {
                try? await outbound.close(
                    .policyViolation, reason: "\(session.agentId) has too many pages open; close one")
                return
            }
            defer { self.socketClosed(session.agentId) }
            let browser = BrowserSession(
                session: session, sessions: self.sessions, socketPath: self.configuration.socketPath,
                limits: self.configuration.limits, logger: self.logger)
            await browser.run(inbound: inbound, outbound: outbound)
        }
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: sockets,
                configuration: .init(ws: .init(maxFrameSize: configuration.limits.maxMessageBytes))),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "parley-web"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    // MARK: Routes

    private func currentSession(_ request: Request) throws -> Response {
        guard let session = sessions.session(token: request.cookies[Self.cookieName]?.value) else {
            return Self.json(.unauthorized, ["error": ["type": "NotSignedIn", "message": "Sign in to continue."]])
        }
        return Self.json(.ok, ["agentId": .string(session.agentId)])
    }

    private func login(_ request: Request, _ context: GatewayContext) async throws -> Response {
        guard originAllowed(request) else { return Self.forbiddenOrigin }
        let body = try await request.body.collect(upTo: configuration.limits.maxBodyBytes)
        guard let form = try? JSONParser.parse(Array(body.readableBytesView), maxDepth: 4),
            let agentId = form["agentId"]?.string, let password = form["password"]?.string
        else {
            return Self.json(
                .badRequest,
                ["error": ["type": "InvalidRequest", "message": "Send {\"agentId\": …, \"password\": …} as JSON."]])
        }
        let keys = ["agent:" + agentId, "address:" + context.remoteAddress]
        let now = ContinuousClock.now
        // The address may be a proxy that many agents share: it gets ten times the agent's allowance.
        let wait = throttle.withLockedValue { throttle in
            throttle.wait(for: [keys[0]], now: now)
                ?? throttle.wait(for: [keys[1]], now: now, limit: throttle.limit * 10)
        }
        if let wait {
            let seconds = Int(
                (Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up))
            logger.notice(
                "web.signInThrottled", metadata: ["agent": "\(agentId)", "address": "\(context.remoteAddress)"])
            var response = Self.json(
                .tooManyRequests,
                [
                    "error": [
                        "type": "TooManyAttempts",
                        "message": .string("Too many failed sign-ins. Try again in \(seconds) s."),
                        "retryAfter": .integer(Int64(seconds)),
                    ]
                ])
            response.headers[.retryAfter] = String(seconds)
            return response
        }
        let path = configuration.credentialsPath
        // bcrypt is deliberately slow: off the event loop. The file is read each time, so a
        // password set while the gateway runs counts at once.
        let verified = try await NIOThreadPool.singleton.runIfActive {
            (try? CredentialStore(path: path))?.verify(agent: agentId, password: password) ?? false
        }
        guard verified else {
            throttle.withLockedValue { $0.failed(keys, now: .now) }
            logger.notice("web.signInFailed", metadata: ["agent": "\(agentId)", "address": "\(context.remoteAddress)"])
            return Self.json(
                .unauthorized,
                ["error": ["type": "WrongCredentials", "message": "The agent id or the password is wrong."]])
        }
        throttle.withLockedValue { $0.succeeded(keys[0]) }
        let token = sessions.create(agentId: agentId)
        logger.info("web.signedIn", metadata: ["agent": "\(agentId)", "address": "\(context.remoteAddress)"])
        var response = Self.json(.ok, ["agentId": .string(agentId)])
        response.setCookie(cookie(token, maxAge: Int(configuration.sessionLifetime.components.seconds)))
        return response
    }

    private func logout(_ request: Request) throws -> Response {
        guard originAllowed(request) else { return Self.forbiddenOrigin }
        let token = request.cookies[Self.cookieName]?.value
        if let session = sessions.session(token: token) {
            logger.info("web.signedOut", metadata: ["agent": "\(session.agentId)"])
        }
        sessions.end(token: token)
        var response = Response(status: .noContent)
        response.setCookie(cookie("", maxAge: 0))
        return response
    }

    /// The session a WebSocket upgrade may proceed with: an allowed `Origin` and a live cookie.
    func upgradeSession(_ request: Request) throws -> SessionStore.Session {
        guard originAllowed(request) else {
            throw HTTPError(.forbidden, message: "This page's origin may not connect.")
        }
        guard let session = sessions.session(token: request.cookies[Self.cookieName]?.value) else {
            throw HTTPError(.unauthorized, message: "Sign in to continue.")
        }
        return session
    }

    private func socketOpened(_ agentId: String) -> Bool {
        let limit = configuration.limits.maxSocketsPerAgent
        return sockets.withLockedValue { open in
            guard open[agentId, default: 0] < limit else { return false }
            open[agentId, default: 0] += 1
            return true
        }
    }

    private func socketClosed(_ agentId: String) {
        sockets.withLockedValue { open in
            open[agentId, default: 1] -= 1
            if open[agentId] == 0 { open[agentId] = nil }
        }
    }

    // MARK: Helpers

    /// Whether the request comes from the gateway's own page (or an allowed origin): its
    /// `Origin` names the host it asked for. A missing `Origin` is refused.
    func originAllowed(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return false }
        if configuration.allowedOrigins.contains(origin) { return true }
        guard let host = request.head.authority else { return false }
        return origin == "http://" + host || origin == "https://" + host
    }

    private func cookie(_ value: String, maxAge: Int) -> Cookie {
        Cookie(
            name: Self.cookieName, value: value, maxAge: maxAge, path: "/", secure: configuration.secureCookies,
            httpOnly: true, sameSite: .strict)
    }

    private static let forbiddenOrigin = json(
        .forbidden, ["error": ["type": "ForbiddenOrigin", "message": "This page's origin may not sign in here."]])

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: value.jsonText)))
    }
}

/// Lets a WebSocket upgrade through only with an allowed `Origin` and a live session, which it
/// puts in the context for the socket.
struct SessionCheck: RouterMiddleware {
    typealias Context = GatewayContext
    let gateway: WebGateway

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        context.session = try gateway.upgradeSession(request)
        return try await next(request, context)
    }
}

/// Headers every response carries: nothing on the page may load from or talk to another origin,
/// be framed, or be sniffed as another type.
struct SecurityHeaders: RouterMiddleware {
    typealias Context = GatewayContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] =
            "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }
}
