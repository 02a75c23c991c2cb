import ParleyCore
import ParleyProtocol
import Testing

/// One request and where it must go.
struct RouteCase: Sendable, CustomTestStringConvertible {
    let method: String
    let roles: [Role]
    let shuttingDown: Bool
    let route: Route
    var testDescription: String { "\(method) as \(roles.map(\.rawValue)) \(shuttingDown ? "while stopping" : "")" }

    init(_ method: String, _ roles: [Role], shuttingDown: Bool = false, _ route: Route) {
        (self.method, self.roles, self.shuttingDown, self.route) = (method, roles, shuttingDown, route)
    }
}

@Suite("Router")
struct RouterTests {
    static let cases: [RouteCase] = [
        .init("sms.send", [.frontend], .command(.smsSend)),
        .init("carrier.submit", [.carrier], .command(.carrierSubmit)),
        .init("conversation.get", [.auditor], .query(.conversationGet)),
        .init("carrier.pending", [.admin], .query(.carrierPending)),
        .init("rpc.discover", [], .discover),
        .init("session.hello", [], .query(.sessionHello)),
        .init("events.subscribe", [.carrier], .subscribe),
        .init("events.unsubscribe", [.frontend], .unsubscribe),
        .init("sms.send", [.auditor], .refuse(.permissionDenied(method: "sms.send", roles: [.auditor]))),
        .init("carrier.status", [.frontend], .refuse(.permissionDenied(method: "carrier.status", roles: [.frontend]))),
        .init("directory.list", [], .refuse(.permissionDenied(method: "directory.list", roles: []))),
        .init("sms.sned", [.admin], .refuse(.methodNotFound("sms.sned"))),
        .init("", [.admin], .refuse(.methodNotFound(""))),
        .init("sms.send", [.frontend], shuttingDown: true, .refuse(.shuttingDown)),
        .init("log.head", [.auditor], shuttingDown: true, .refuse(.shuttingDown)),
        .init("events.subscribe", [.frontend], shuttingDown: true, .refuse(.shuttingDown)),
        .init("events.unsubscribe", [.frontend], shuttingDown: true, .unsubscribe),
        // A missing role is refused before shutdown is mentioned; an unknown method before both.
        .init("sms.send", [.auditor], shuttingDown: true, .refuse(.permissionDenied(method: "sms.send", roles: [.auditor]))),
        .init("nope", [], shuttingDown: true, .refuse(.methodNotFound("nope"))),
    ]

    @Test("each request goes where the role table and the shutdown rule say", arguments: cases)
    func routes(_ c: RouteCase) {
        #expect(Router.route(method: c.method, roles: c.roles, shuttingDown: c.shuttingDown) == c.route)
    }

    @Test("every method is routed for admin: commands to the writer, the rest by kind")
    func everyMethodForAdmin() {
        for method in ParleyProtocol.Method.allCases {
            let route = Router.route(method: method.rawValue, roles: [.admin], shuttingDown: false)
            switch route {
            case .command(let routed): #expect(routed == method && method.isCommand)
            case .query(let routed): #expect(routed == method && !method.isCommand)
            case .discover: #expect(method == .rpcDiscover)
            case .subscribe: #expect(method == .eventsSubscribe)
            case .unsubscribe: #expect(method == .eventsUnsubscribe)
            case .refuse(let error): Issue.record("\(method.rawValue) refused for admin: \(error)")
            }
        }
    }
}
