import NIOCore
import ParleyProtocol

/// Reads the server's lines on the channel's event loop and routes each one: the greeting to
/// the connect call, answers to their callers, `events.*` notifications to their subscriptions.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let state: ConnectionState
    private let greeting: EventLoopPromise<JSONValue>
    private var greeted = false
    /// A connection-level error the server sent (id null) before closing, to report at the close.
    private var lastServerError: RemoteError?

    init(state: ConnectionState, greeting: EventLoopPromise<JSONValue>) {
        self.state = state
        self.greeting = greeting
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        guard line.readableBytes > 0 else { return }
        let message: JSONValue
        do {
            message = try JSONParser.parse(Array(line.readableBytesView), maxDepth: 64)
        } catch {
            return violation(context: context, "a line that is not JSON (\(error))")
        }
        guard case .object = message else { return violation(context: context, "a line that is not a JSON object") }
        if let method = message["method"]?.string {
            notification(context: context, method: method, params: message["params"] ?? .object([:]))
        } else if let id = message["id"]?.int64 {
            state.answer(id: id, result: message["result"], error: message["error"])
        } else if let error = message["error"] {
            // A refusal of the connection itself (TooManyConnections, LineTooLong): the server closes next.
            let remote = RemoteError(error)
            lastServerError = remote
            if !greeted {
                greeted = true
                greeting.fail(ParleyError.remote(remote))
            }
        }
    }

    private func notification(context: ChannelHandlerContext, method: String, params: JSONValue) {
        if method == "server.hello" {
            if !greeted {
                greeted = true
                greeting.succeed(params)
            }
            return
        }
        guard let subscription = params["subscription"]?.string,
            let message = SubscriptionMessage(method: method, params: params)
        else { return }  // a notification this client does not know: ignored, as the protocol asks
        if state.deliver(message, to: subscription) == .overflowed {
            // The reader fell behind its buffer: stop the server's delivery too.
            guard case .success(let id) = state.register(nil) else { return }
            let request: JSONValue = [
                "jsonrpc": "2.0", "id": .integer(id), "method": "events.unsubscribe",
                "params": ["subscription": .string(subscription)],
            ]
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request.jsonText + "\n")), promise: nil)
        }
    }

    private func violation(context: ChannelHandlerContext, _ detail: String) {
        state.fail(.protocolViolation("parleyd sent \(detail)"))
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let tooLong = error as? LineDecoder.LineTooLong {
            violation(context: context, "a line longer than \(tooLong.limit) bytes")
        } else {
            state.fail(.connectionLost("\(error)"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let reason = lastServerError.map { "parleyd closed the connection (\($0))" } ?? "parleyd closed the connection"
        state.fail(.connectionLost(reason))
        if !greeted {
            greeted = true
            greeting.fail(
                lastServerError.map(ParleyError.remote)
                    ?? ParleyError.connectionLost("parleyd closed the connection before greeting"))
        }
        context.fireChannelInactive()
    }
}
