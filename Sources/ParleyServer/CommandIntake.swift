import NIOCore

/// The command path on a connection's event loop: each command line is parsed, routed,
/// decoded and queued with the writer right where it was framed — one pass, no task, no
/// hop to another thread. Every other request (a query, a subscription, one the router
/// refuses) goes on, in order and already parsed, to the session's loop
/// (``Session/run(_:greeted:)``); so do a line that does not parse, and the refusal of a
/// command, which that loop writes with backpressure.
///
/// Until the session has greeted the peer, lines are held and reading is paused, so nothing
/// is answered before the greeting and a peer cannot pile up lines meanwhile.
final class CommandIntake: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = LineInput
    typealias InboundOut = LineInput
    typealias OutboundIn = Any
    typealias OutboundOut = Any

    private var session: Session?
    private var held: [LineInput] = []
    private var readWanted = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let input = unwrapInboundIn(data)
        guard let session else {
            held.append(input)
            return
        }
        take(input, session: session, context: context)
    }

    func read(context: ChannelHandlerContext) {
        if session == nil { readWanted = true } else { context.read() }
    }

    /// Starts taking commands for `session` (on the event loop, once it has greeted the
    /// peer): first the lines held until now, then reading resumes.
    func activate(_ session: Session) {
        guard let context, self.session == nil else { return }
        self.session = session
        let lines = held
        held = []
        for input in lines { take(input, session: session, context: context) }
        // The async channel passes what it was given on at the end of a read.
        if !lines.isEmpty { context.fireChannelReadComplete() }
        if readWanted {
            readWanted = false
            context.read()
        }
    }

    private func take(_ input: LineInput, session: Session, context: ChannelHandlerContext) {
        guard case .line(let bytes) = input else {
            context.fireChannelRead(wrapInboundOut(input))
            return
        }
        switch session.intake(bytes) {
        case .queued: break
        case .parsed(let request): context.fireChannelRead(wrapInboundOut(.request(request)))
        case .elsewhere: context.fireChannelRead(wrapInboundOut(input))
        case .refused(let answer): context.fireChannelRead(wrapInboundOut(.refusal(answer)))
        }
    }
}
