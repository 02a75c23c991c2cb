import Foundation
import HummingbirdWebSocket
import Logging
import NIOWebSocket
import ParleyClient
import ParleyProtocol

/// One browser WebSocket of a signed-in agent: its own connection to `parleyd`, the agent's
/// requests checked against ``GatewayPolicy`` and passed on, and its subscriptions' events
/// passed back.
///
/// The page speaks the daemon's protocol as JSON text messages (`{id, method, params}`, answers
/// `{id, result}` or `{id, error}`, notifications `{method, params}`); see `schemas/web/README.md`.
/// Requests are handled one at a time, in order. The socket closes (and the page reconnects,
/// resuming from its last position) when the daemon goes away (code 1011), when a subscription
/// falls further behind than its buffer because the browser does not read (1008), and when the
/// session ends (4001: signed out, expired, or ended by a newer sign-in).
struct BrowserSession {
    let session: SessionStore.Session
    let sessions: SessionStore
    let socketPath: String
    let limits: GatewayLimits
    let logger: Logger

    /// Why the socket is being closed.
    enum Closing: Error {
        case sessionEnded
        case daemonLost(String)
        case browserTooSlow
    }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let connection: ParleyConnection
        do {
            connection = try await ParleyConnection.connect(path: socketPath, timeout: .seconds(10))
        } catch {
            logger.warning("web.daemonUnavailable", metadata: ["error": "\(error)"])
            try? await outbound.close(.unexpectedServerError, reason: "parleyd is not available")
            return
        }
        // Why to stop, from wherever it is noticed: the session's end, a subscription whose
        // browser fell behind.
        let (stops, stop) = AsyncStream<Closing>.makeStream()
        let key = sessions.whenEnded(session.id) { stop.yield(.sessionEnded) }
        defer { if let key { sessions.cancel(key, of: session.id) } }
        if key == nil { stop.yield(.sessionEnded) }

        let closing: Closing? = await withTaskGroup(of: Closing?.self) { group in
            group.addTask {
                for await reason in stops { return reason }
                return nil
            }
            group.addTask { [session] in
                try? await Task.sleep(until: session.expires, clock: .continuous)
                return Task.isCancelled ? nil : .sessionEnded
            }
            group.addTask {
                await self.serve(inbound: inbound, outbound: outbound, connection: connection, stop: stop)
            }
            // The first task to end decides; the others are cancelled.
            let first = await group.next() ?? nil
            group.cancelAll()
            stop.finish()
            return first
        }
        await connection.close()
        switch closing {
        case .sessionEnded:
            try? await outbound.close(.unknown(4001), reason: "signed out")
        case .daemonLost(let reason):
            logger.warning("web.daemonLost", metadata: ["agent": "\(session.agentId)", "error": "\(reason)"])
            try? await outbound.close(.unexpectedServerError, reason: "parleyd went away")
        case .browserTooSlow:
            logger.notice("web.slowBrowser", metadata: ["agent": "\(session.agentId)"])
            try? await outbound.close(.policyViolation, reason: "the browser did not keep up")
        case nil:
            break
        }
    }

    /// Reads the browser's requests until it goes away; returns why the socket must close, if it must.
    private func serve(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, connection: ParleyConnection,
        stop: AsyncStream<Closing>.Continuation
    ) async -> Closing? {
        await withTaskGroup(of: Void.self) { forwarders in
            defer { forwarders.cancelAll() }
            do {
                for try await message in inbound.messages(maxSize: limits.maxMessageBytes) {
                    guard case .text(let text) = message else {
                        try await send(Self.error(id: .null, type: "ParseError", "send JSON text messages"), outbound)
                        continue
                    }
                    if let closing = try await handle(
                        text, connection: connection, outbound: outbound, forwarders: &forwarders, stop: stop)
                    {
                        return closing
                    }
                }
            } catch let closing as Closing {
                return closing
            } catch {
                // The browser went away, sent a message over the limit, or broke the framing.
                logger.debug("web.socketEnded", metadata: ["agent": "\(session.agentId)", "error": "\(error)"])
            }
            return nil
        }
    }

    private func handle(
        _ text: String, connection: ParleyConnection, outbound: WebSocketOutboundWriter,
        forwarders: inout TaskGroup<Void>,
        stop: AsyncStream<Closing>.Continuation
    ) async throws -> Closing? {
        guard let request = try? JSONParser.parse(Array(text.utf8), maxDepth: 32),
            let method = request["method"]?.string
        else {
            try await send(
                Self.error(id: .null, type: "InvalidRequest", "a request is a JSON object with id, method and params"),
                outbound)
            return nil
        }
        let id = request["id"] ?? .null
        guard id.int64 != nil || id.string != nil else {
            try await send(
                Self.error(id: .null, type: "InvalidRequest", "a request needs an id (an integer or a string)"),
                outbound)
            return nil
        }
        let given: [String: JSONValue]
        switch request["params"] {
        case nil, .null: given = [:]
        case .object(let members): given = members
        default:
            try await send(Self.error(id: id, type: "WrongType", "params must be an object", field: "params"), outbound)
            return nil
        }
        let params: [String: JSONValue]
        switch GatewayPolicy.authorize(method: method, params: given, agentId: session.agentId) {
        case .failure(let refusal):
            logger.notice(
                "web.refused",
                metadata: ["agent": "\(session.agentId)", "method": "\(method)", "type": "\(refusal.type)"])
            try await send(["id": id, "error": refusal.json], outbound)
            return nil
        case .success(let checked): params = checked
        }
        do {
            if method == "events.subscribe" {
                let subscription = try await connection.subscribe(
                    after: params["after"]?.uint64, filter: params["filter"], buffer: limits.subscriptionBuffer)
                try await send(
                    [
                        "id": id,
                        "result": [
                            "subscription": .string(subscription.id), "after": .integer(Int64(subscription.after)),
                            "asOf": .integer(Int64(subscription.asOf)),
                        ],
                    ], outbound)
                forwarders.addTask {
                    if let closing = await self.forward(subscription, to: outbound) { stop.yield(closing) }
                }
                return nil
            }
            var result = try await connection.call(method, params)
            if method == "conversation.get" {
                let services =
                    try await connection.call("agent.view", ["agentId": .string(session.agentId)])["agent"]?[
                        "services"]?.array?.compactMap(\.string) ?? []
                guard GatewayPolicy.mayRead(conversation: result, agentId: session.agentId, services: services) else {
                    try await send(
                        [
                            "id": id,
                            "error": GatewayPolicy.Refusal(
                                type: "PermissionDenied", message: "this conversation is not \(session.agentId)'s",
                                field: "conversationId"
                            ).json,
                        ], outbound)
                    return nil
                }
            }
            if case .object = result {} else { result = .object([:]) }
            try await send(["id": id, "result": result], outbound)
        } catch {
            if let remote = (error as? ParleyError)?.remote {
                try await send(
                    [
                        "id": id,
                        "error": [
                            "code": .integer(remote.code), "message": .string(remote.message), "data": remote.data,
                        ],
                    ], outbound)
            } else {
                return .daemonLost("\(error)")
            }
        }
        return nil
    }

    /// Passes one subscription's messages to the browser until it ends.
    private func forward(_ subscription: Subscription, to outbound: WebSocketOutboundWriter) async -> Closing? {
        do {
            for try await message in subscription {
                try await send(message.notification(subscription: subscription.id), outbound)
            }
            return nil
        } catch ParleyError.fellBehind {
            return .browserTooSlow
        } catch let error as ParleyError {
            return .daemonLost("\(error)")
        } catch {
            return nil  // the browser went away
        }
    }

    private func send(_ message: JSONValue, _ outbound: WebSocketOutboundWriter) async throws {
        try await outbound.write(.text(message.jsonText))
    }

    static func error(id: JSONValue, type: String, _ message: String, field: String? = nil) -> JSONValue {
        var data: [String: JSONValue] = ["type": .string(type), "retryable": false]
        if let field { data["field"] = .string(field) }
        let code: Int64 = type == "ParseError" ? -32700 : type == "InvalidRequest" ? -32600 : -32602
        return ["id": id, "error": ["code": .integer(code), "message": .string(message), "data": .object(data)]]
    }
}
