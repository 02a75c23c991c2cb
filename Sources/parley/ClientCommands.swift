import ArgumentParser
import Foundation
import ParleyClient
import ParleyProtocol

// The client subcommands of `parley`: each connects to parleyd's Unix socket, makes one or two
// JSON-RPC calls and prints the answer as a few stable text lines (or, with --json, as the raw
// result on one compact JSON line with sorted keys). Exit codes: 0 success, 1 the server refused
// (an error answer, printed as `error: TYPE: message` on stderr), 2 the daemon could not be
// reached or the connection broke; a usage error also exits 2.

/// `parley call METHOD [PARAMS_JSON]`: any method, raw.
struct ClientCall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call any protocol method with raw JSON params.",
        discussion: """
            Sends one JSON-RPC request and prints its result as one compact JSON line on stdout. \
            On an error answer, prints the error object ({"code":…,"data":{"retryable":…,"type":…},\
            "message":…}) as one JSON line on stderr and exits 1. `parley call rpc.discover` lists \
            the methods.

            Examples:
              parley call server.info
              parley call log.read '{"after":0,"limit":10}'
              parley call sms.count '{"text":"Hello"}'
            """
    )

    @OptionGroup var connection: ClientSocketOptions

    @Argument(help: "The method, e.g. log.head.") var method: String

    @Argument(help: ArgumentHelp("The params as a JSON object (default {}).", valueName: "params-json"))
    var params: String?

    /// The params, parsed: nil when they are not a JSON object.
    private var object: [String: JSONValue]? {
        guard let params else { return [:] }
        return (try? JSONParser.parse(Array(params.utf8)))?.object
    }

    func validate() throws {
        guard object != nil else {
            throw ValidationError("PARAMS_JSON must be a JSON object, e.g. '{\"agentId\":\"a1\"}'.")
        }
    }

    func run() async throws {
        let object = self.object ?? [:]
        try await connection.run { daemon in
            do {
                ClientOut.out(try await daemon.call(method, object).jsonText)
            } catch let ParleyError.remote(error) {
                ClientOut.err(error.object.jsonText)
                throw ExitCode(1)
            }
        }
    }
}

/// `parley info`: the server and what it knows of the caller.
struct ClientInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the server's version, protocol, log head, limits and your identity.",
        discussion: """
            Calls server.info and prints:
              server:   parleyd 1.0.0
              protocol: parley 1 (supported: 1)
              head:     42
              peer:     uid 1000, gids 1000, roles admin
              limits:   line 1048576 B, depth 32, in flight 64, subscriptions 16, connections 1024, read 1000
            The roles come from the server's mapping of your Unix uid and groups; "none" means \
            only server.info, session.hello and rpc.discover are open to you.
            """
    )

    @OptionGroup var options: ClientOptions

    func run() async throws {
        try await options.run { daemon in
            let info = try await daemon.call("server.info")
            options.print(info) { r in
                let peer = r["peer"] ?? [:]
                let limits = r["limits"] ?? [:]
                let versions = r.list("versions").map { "\($0.int64 ?? 0)" }.joined(separator: ", ")
                let gids = peer.list("gids").map { "\($0.int64 ?? 0)" }.joined(separator: " ")
                let roles = peer.list("roles").compactMap(\.string).joined(separator: " ")
                func limit(_ key: String) -> String { limits[key]?.int64.map(String.init) ?? "?" }
                return [
                    "server:   \(r["server"]?.string ?? "?")",
                    "protocol: \(r["protocol"]?.string ?? "?") \(r["version"]?.int64 ?? 0) (supported: \(versions))",
                    "head:     \(r["head"]?.uint64 ?? 0)",
                    "peer:     uid \(peer["uid"]?.int64 ?? -1), gids \(gids.isEmpty ? "none" : gids), roles \(roles.isEmpty ? "none" : roles)",
                    "limits:   line \(limit("maxLineBytes")) B, depth \(limit("maxDepth")), in flight \(limit("maxInFlight")), "
                        + "subscriptions \(limit("maxSubscriptions")), connections \(limit("maxConnections")), read \(limit("maxReadLimit"))",
                ]
            }
        }
    }
}

/// `parley send`: an outbound SMS.
struct ClientSend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send an SMS as an agent (sms.send).",
        discussion: """
            Choose where it goes in one of three ways: --service S --to NUMBER (a new \
            conversation from the service's number), --conversation C (an existing one the agent \
            owns), or --did --to NUMBER (from the agent's own DID). Prints:
              sent m-… in conversation c-… (queued, GSM-7, 1 segment) at position 42
            followed by " (replayed: …)" when --key matched an earlier send.

            Examples:
              parley send --agent a1 --service sales --to +15557654321 'Hello!'
              parley send --agent a1 --conversation c-1 --key retry-7 'Any news?'
              parley send --agent a1 --did --to +15557654321 \\
                --attach 'q.pdf:application/pdf:2048:s3://b/q.pdf' 'See attached'
            """
    )

    @OptionGroup var options: ClientOptions

    @Option(help: "The sending agent.") var agent: String
    @Option(help: "Open a new conversation from this service's number (with --to).") var service: String?
    @Option(help: "Send in this existing conversation.") var conversation: String?
    @Flag(help: "Send from the agent's own DID (with --to).") var did = false
    @Option(help: ArgumentHelp("The customer's number, E.164.", valueName: "number")) var to: String?
    @Option(
        help: ArgumentHelp("An idempotency key: resending with the same key does not send twice.", valueName: "key"))
    var key: String?
    @Option(
        help: ArgumentHelp(
            "An attachment as name:contentType:size:reference (the reference may contain ':'); repeatable.",
            valueName: "name:type:size:ref"
        )
    )
    var attach: [String] = []
    @Argument(help: "The message text (may be empty with attachments).") var text: String

    func validate() throws {
        let ways = [service != nil, conversation != nil, did].filter { $0 }.count
        guard ways == 1 else { throw ValidationError("Give exactly one of --service, --conversation or --did.") }
        if conversation != nil, to != nil {
            throw ValidationError("--to goes with --service or --did, not --conversation.")
        }
        if conversation == nil, to == nil { throw ValidationError("--service and --did need --to NUMBER.") }
        for item in attach { _ = try Self.attachment(item) }
        if text.isEmpty && attach.isEmpty { throw ValidationError("Give a text, an attachment, or both.") }
    }

    static func attachment(_ spec: String) throws -> [String: JSONValue] {
        let parts = spec.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, !parts[0].isEmpty, !parts[1].isEmpty, !parts[3].isEmpty, let size = Int64(parts[2]),
            size >= 0
        else {
            throw ValidationError(
                "--attach \(spec): expected name:contentType:size:reference, e.g. photo.jpg:image/jpeg:52133:https://cdn/x."
            )
        }
        return [
            "name": .string(parts[0]), "contentType": .string(parts[1]), "size": .integer(Int64(size)),
            "reference": .string(parts[3]),
        ]
    }

    func run() async throws {
        var params: [String: JSONValue] = ["agentId": .string(agent), "text": .string(text)]
        if let service { params["serviceId"] = .string(service) }
        if let conversation { params["conversationId"] = .string(conversation) }
        if did { params["fromDid"] = true }
        if let to { params["customerNumber"] = .string(to) }
        if let key { params["idempotencyKey"] = .string(key) }
        if !attach.isEmpty { params["attachments"] = .array(try attach.map { .object(try Self.attachment($0)) }) }
        try await options.run { daemon in
            let r = try await daemon.call("sms.send", params)
            options.print(r) { r in
                let segments = r["segments"]?.int64 ?? 0
                return [
                    "sent \(r["messageId"]?.string ?? "?") in conversation \(r["conversationId"]?.string ?? "?") "
                        + "(\(r["status"]?.string ?? "queued"), \(r["encoding"]?.string ?? "?"), "
                        + "\(ClientFormat.count(segments, "segment"))) at position \(r["position"]?.uint64 ?? 0)"
                        + ClientFormat.replayed(r)
                ]
            }
        }
    }
}

/// `parley transcript CONVERSATION`: a conversation's messages.
struct ClientTranscript: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcript",
        abstract: "Print a conversation's transcript (conversation.get).",
        discussion: """
            Prints a header, then one line per message, oldest first; times are UTC, → is \
            outbound (with its delivery status), ← inbound:
              conversation c-1: open, owner a1 (service sales, started by agent)
              local +15550001111, customer +15557654321, 2 messages, as of position 12
              12:00:01 → +15550001111 to +15557654321 [delivered] Hello there
              12:00:09 ← +15557654321 to +15550001111 Hi! [+1 attachment: photo.jpg]
            A pending chat request shows "owner none".

            Example: parley transcript c-1 --limit 50
            """
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The conversation id.") var conversation: String
    @Option(help: "Only messages recorded after this log position.") var after: UInt64?
    @Option(help: "At most this many messages (server default 1000).") var limit: Int?

    func run() async throws {
        var params: [String: JSONValue] = ["conversationId": .string(conversation)]
        if let after { params["after"] = .integer(Int64(clamping: after)) }
        if let limit { params["limit"] = .integer(Int64(limit)) }
        try await options.run { daemon in
            let r = try await daemon.call("conversation.get", params)
            options.print(r) { r in
                let c = r["conversation"] ?? [:]
                let messages = (r["messages"]?.array ?? [])
                var via = c["kind"]?.string == "did" ? "DID" : "service \(c["serviceId"]?.string ?? "?")"
                via += ", started by \(c["origin"]?.string ?? "?")"
                let total = c["messageCount"]?.int64 ?? Int64(messages.count)
                var lines = [
                    "conversation \(c["conversationId"]?.string ?? conversation): \(c["status"]?.string ?? "?"), "
                        + "owner \(c["agentId"]?.string ?? "none") (\(via))",
                    "local \(c["localNumber"]?.string ?? "?"), customer \(c["customerNumber"]?.string ?? "?"), "
                        + "\(ClientFormat.count(total, "message")), as of position \(r["asOf"]?.uint64 ?? 0)",
                ]
                lines += messages.map { ClientFormat.message($0) }
                return lines
            }
        }
    }
}

/// `parley recent AGENT`: the agent's Recent list.
struct ClientRecent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recent",
        abstract: "Show an agent's Recent messages and unread count (recent.get).",
        discussion: """
            Prints the unread count, then one line per item, newest first; unread items are \
            marked "*", and each ends with its conversation and log position:
              a1: 1 unread (read up to position 10, as of 14)
              * 12:00:09 ← +15557654321 to +15550001111 Hi! (c-1 @12)
                12:00:01 → +15550001111 to +15557654321 [delivered] Hello (c-1 @11)
            With --mark-read, then marks everything up to the newest item read (recent.markRead) \
            and prints "marked read up to position N". With --json, prints the recent.get result \
            (and then the recent.markRead result on a second line).

            Example: parley recent a1 --limit 20 --mark-read
            """
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The agent id.") var agent: String
    @Option(help: "At most this many items (server default 100).") var limit: Int?
    @Flag(help: "Then mark the items shown as read.") var markRead = false

    func run() async throws {
        var params: [String: JSONValue] = ["agentId": .string(agent)]
        if let limit { params["limit"] = .integer(Int64(limit)) }
        try await options.run { daemon in
            let r = try await daemon.call("recent.get", params)
            let items = (r["items"]?.array ?? [])
            options.print(r) { r in
                var lines = [
                    "\(agent): \(r["unread"]?.uint64 ?? 0) unread (read up to position \(r["readHorizon"]?.uint64 ?? 0), "
                        + "as of \(r["asOf"]?.uint64 ?? 0))"
                ]
                for item in items {
                    let m = item["message"] ?? [:]
                    let mark = item["unread"]?.bool == true ? "* " : "  "
                    lines.append(
                        ClientFormat.message(m, prefix: mark) + " (\(m["conversationId"]?.string ?? "?") @"
                            + "\(item["position"]?.uint64 ?? 0))"
                    )
                }
                if items.isEmpty { lines.append("(no recent messages)") }
                return lines
            }
            guard markRead else { return }
            guard let newest = items.compactMap({ $0["position"]?.uint64 }).max() else {
                if !options.json { ClientOut.out("nothing to mark read") }
                return
            }
            let marked = try await daemon.call(
                "recent.markRead", ["agentId": .string(agent), "upTo": .integer(Int64(clamping: newest))])
            options.print(marked) { m in ["marked read up to position \(newest)" + ClientFormat.replayed(m)] }
        }
    }
}

/// `parley view AGENT`: the agent's desktop view.
struct ClientView: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Show an agent's state, call, unread count, open chats and pending requests (agent.view).",
        discussion: """
            Prints:
              a1 (Alice Smith): Busy
              call:      call-9 on service sales with +15557654321
              number:    DID +15550002222, SMS allowed, services sales, support
              unread:    2
              open chats (1):
                c-1 +15557654321 via +15550001111 (service sales), 3 messages
              pending chat requests (0)
              as of position 14
            The call line appears only in Busy and AfterCallWork.
            """
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The agent id.") var agent: String

    func run() async throws {
        try await options.run { daemon in
            let r = try await daemon.call("agent.view", ["agentId": .string(agent)])
            options.print(r) { r in
                let a = r["agent"] ?? [:]
                var lines = [
                    "\(a["agentId"]?.string ?? agent) (\(a["displayName"]?.string ?? "")): \(a["state"]?.string ?? "?")"
                ]
                if let call = a["call"] {
                    lines.append(
                        "call:      \(call["callId"]?.string ?? "?") on service \(call["serviceId"]?.string ?? "?") "
                            + "with \(call["customerNumber"]?.string ?? "?")"
                    )
                }
                let services = a.list("services").compactMap(\.string).joined(separator: ", ")
                let did = a["did"]?.string.map { "DID \($0)" } ?? "no DID"
                let sms = a["smsAllowed"]?.bool == false ? "SMS not allowed" : "SMS allowed"
                lines.append("number:    \(did), \(sms), services \(services.isEmpty ? "none" : services)")
                lines.append("unread:    \(r["unread"]?.uint64 ?? 0)")
                for (title, key) in [("open chats", "openChats"), ("pending chat requests", "pendingRequests")] {
                    let list = (r[key]?.array ?? [])
                    lines.append("\(title) (\(list.count))" + (list.isEmpty ? "" : ":"))
                    for c in list {
                        let via = c["kind"]?.string == "did" ? "DID" : "service \(c["serviceId"]?.string ?? "?")"
                        lines.append(
                            "  \(c["conversationId"]?.string ?? "?") \(c["customerNumber"]?.string ?? "?") "
                                + "via \(c["localNumber"]?.string ?? "?") (\(via)), "
                                + ClientFormat.count(c["messageCount"]?.int64 ?? 0, "message")
                        )
                    }
                }
                lines.append("as of position \(r["asOf"]?.uint64 ?? 0)")
                return lines
            }
        }
    }
}

/// `parley tail`: follow the event log.
struct ClientTail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow the event log live (events.subscribe), printing each notification.",
        discussion: """
            Subscribes and prints every notification the server sends as its raw JSON line \
            (events.event, events.caughtUp, events.checkpoint, events.end), one per line, flushed \
            at once, until the subscription ends or you press Ctrl-C. Without --after, starts at \
            the current head (live events only); --after 0 replays the whole log first. Filters \
            combine: every one given must hold.

            The subscription's answer ("subscribed s1 after N, head M") and, at the end, a resume \
            hint go to stderr. Exits 0 when the server ends the subscription for a shutdown \
            (resume with the printed `--after N`), 1 on any other end reason (e.g. slowConsumer), \
            2 if the connection drops. When the output is slower than the log (a pager), it \
            subscribes again after the last line printed, saying so on stderr: nothing is missed \
            or printed twice. --timeout bounds only the wait for the subscription's answer; events \
            are awaited forever.

            Examples:
              parley tail --after 0
              parley tail --agent a1
              parley tail --conversation c-1 --type MessageSent --type InboundReceived
            """
    )

    @OptionGroup var connection: ClientSocketOptions
    @Option(help: ArgumentHelp("Deliver events after this log position (default: the head).", valueName: "position"))
    var after: UInt64?
    @Option(help: "Only events concerning this agent.") var agent: String?
    @Option(help: "Only events of this conversation.") var conversation: String?
    @Option(
        name: .customLong("type"),
        help: ArgumentHelp("Only events of this type, e.g. MessageSent; repeatable.", valueName: "type"))
    var types: [String] = []

    func run() async throws {
        var filter: [String: JSONValue] = [:]
        if let agent { filter["agentId"] = .string(agent) }
        if let conversation { filter["conversationId"] = .string(conversation) }
        if !types.isEmpty { filter["types"] = .array(types.map(JSONValue.string)) }
        try await connection.run { daemon in
            var cursor = after
            while true {
                let subscription = try await daemon.connection.subscribe(
                    after: cursor, filter: filter.isEmpty ? nil : .object(filter), timeout: daemon.timeout)
                ClientOut.err("subscribed \(subscription.id) after \(subscription.after), head \(subscription.asOf)")
                do {
                    for try await message in subscription {
                        guard case .object(var line) = message.notification(subscription: subscription.id) else {
                            continue
                        }
                        line["jsonrpc"] = "2.0"
                        ClientOut.out(JSONValue.object(line).jsonText)
                        guard case .end(let reason, let resume) = message else { continue }
                        ClientOut.err("subscription ended (\(reason)); resume with: parley tail --after \(resume)")
                        if reason == "shutdown" { return }
                        throw ExitCode(1)
                    }
                } catch ParleyError.fellBehind(let position) {
                    // stdout is slower than the log (a pager, a pipe): subscribe again after the
                    // last line printed, so nothing is missed or printed twice.
                    ClientOut.err("output fell behind; subscribing again after \(position)")
                    cursor = position
                    continue
                }
                throw ParleyError.connectionLost("the server closed the connection without ending the subscription")
            }
        }
    }
}

/// `parley login AGENT`.
struct ClientLogin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log an agent in (agent.login).",
        discussion: """
            Logs in as NotReady, or Ready with --ready. Prints "a1 logged in: NotReady (position 15)".
            Example: parley login a1 --ready
            """
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The agent id.") var agent: String
    @Flag(help: "Log in Ready instead of NotReady.") var ready = false

    func run() async throws {
        try await options.run { daemon in
            let r = try await daemon.call(
                "agent.login", ["agentId": .string(agent), "state": ready ? "Ready" : "NotReady"])
            options.print(r) { r in
                [
                    "\(agent) logged in: \(r["state"]?.string ?? "?") (position \(r["position"]?.uint64 ?? 0))"
                        + ClientFormat.replayed(r)
                ]
            }
        }
    }
}

/// `parley logout AGENT`.
struct ClientLogout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Log an agent out (agent.logout).",
        discussion: "Prints \"a1 logged out (position 16)\".\nExample: parley logout a1"
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The agent id.") var agent: String

    func run() async throws {
        try await options.run { daemon in
            let r = try await daemon.call("agent.logout", ["agentId": .string(agent)])
            options.print(r) { r in
                ["\(agent) logged out (position \(r["position"]?.uint64 ?? 0))" + ClientFormat.replayed(r)]
            }
        }
    }
}

/// `parley state AGENT STATE`.
struct ClientState: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Set a logged-in agent's state (agent.setState).",
        discussion: """
            STATE is Ready, NotReady, Busy or AfterCallWork. Busy takes the call with --call-id, \
            --service and --customer. Prints "a1 is now Busy (position 17)".
            Examples:
              parley state a1 Ready
              parley state a1 Busy --call-id call-9 --service sales --customer +15557654321
            """
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The agent id.") var agent: String
    @Argument(help: "Ready, NotReady, Busy or AfterCallWork.") var state: String
    @Option(help: "The telephony call id (with --service and --customer).") var callId: String?
    @Option(help: "The service the call came through.") var service: String?
    @Option(help: ArgumentHelp("The caller's number, E.164.", valueName: "number")) var customer: String?

    func validate() throws {
        let given = [callId, service, customer].compactMap { $0 }.count
        guard given == 0 || given == 3 else {
            throw ValidationError("--call-id, --service and --customer go together.")
        }
    }

    func run() async throws {
        var params: [String: JSONValue] = ["agentId": .string(agent), "state": .string(state)]
        if let callId, let service, let customer {
            params["call"] = [
                "callId": .string(callId), "serviceId": .string(service), "customerNumber": .string(customer),
            ]
        }
        try await options.run { daemon in
            let r = try await daemon.call("agent.setState", params)
            options.print(r) { r in
                [
                    "\(agent) is now \(r["state"]?.string ?? state) (position \(r["position"]?.uint64 ?? 0))"
                        + ClientFormat.replayed(r)
                ]
            }
        }
    }
}

/// `parley accept AGENT CONVERSATION`.
struct ClientAccept: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accept",
        abstract: "Accept a pending chat request as an agent (chat.accept).",
        discussion: "Prints \"a1 accepted c-1 (position 18)\".\nExample: parley accept a1 c-1"
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The agent id.") var agent: String
    @Argument(help: "The conversation id.") var conversation: String

    func run() async throws {
        try await options.run { daemon in
            let r = try await daemon.call(
                "chat.accept", ["agentId": .string(agent), "conversationId": .string(conversation)])
            options.print(r) { r in
                [
                    "\(agent) accepted \(conversation) (position \(r["position"]?.uint64 ?? 0))"
                        + ClientFormat.replayed(r)
                ]
            }
        }
    }
}

/// `parley end AGENT CONVERSATION`.
struct ClientEnd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "end",
        abstract: "End a conversation the agent owns (chat.end).",
        discussion: "Prints \"a1 ended c-1 (position 19)\".\nExample: parley end a1 c-1"
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The agent id.") var agent: String
    @Argument(help: "The conversation id.") var conversation: String

    func run() async throws {
        try await options.run { daemon in
            let r = try await daemon.call(
                "chat.end", ["agentId": .string(agent), "conversationId": .string(conversation)])
            options.print(r) { r in
                ["\(agent) ended \(conversation) (position \(r["position"]?.uint64 ?? 0))" + ClientFormat.replayed(r)]
            }
        }
    }
}

/// `parley inbound --from N --to N TEXT`: simulate the carrier delivering an SMS.
struct ClientInbound: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbound",
        abstract: "Deliver an inbound SMS as the carrier would (carrier.inbound).",
        discussion: """
            Prints what became of it, one of:
              received m-… in conversation c-… at position 20
              received m-… as a new chat request c-… at position 20
              received m-… in a new DID conversation c-… at position 20
              ignored m-… at position 20
            Example: parley inbound --from +15557654321 --to +15550001111 'Hi, any update?'
            """
    )

    @OptionGroup var options: ClientOptions
    @Option(help: ArgumentHelp("The customer's number, E.164.", valueName: "number")) var from: String
    @Option(help: ArgumentHelp("The service number or DID it was sent to.", valueName: "number")) var to: String
    @Option(help: "The carrier's message reference.") var reference: String?
    @Option(help: ArgumentHelp("An idempotency key.", valueName: "key")) var key: String?
    @Option(
        help: ArgumentHelp(
            "An attachment as name:contentType:size:reference; repeatable.", valueName: "name:type:size:ref"))
    var attach: [String] = []
    @Argument(help: "The message text.") var text: String

    func validate() throws {
        for item in attach { _ = try ClientSend.attachment(item) }
    }

    func run() async throws {
        var params: [String: JSONValue] = ["from": .string(from), "to": .string(to), "text": .string(text)]
        if let reference { params["carrierReference"] = .string(reference) }
        if let key { params["idempotencyKey"] = .string(key) }
        if !attach.isEmpty { params["attachments"] = .array(try attach.map { .object(try ClientSend.attachment($0)) }) }
        try await options.run { daemon in
            let r = try await daemon.call("carrier.inbound", params)
            options.print(r) { r in
                let message = r["messageId"]?.string ?? "?"
                let conversation = r["conversationId"]?.string ?? "?"
                let at = " at position \(r["position"]?.uint64 ?? 0)" + ClientFormat.replayed(r)
                switch r["outcome"]?.string {
                case "ignored": return ["ignored \(message)" + at]
                case "chatRequest": return ["received \(message) as a new chat request \(conversation)" + at]
                case "did": return ["received \(message) in a new DID conversation \(conversation)" + at]
                default: return ["received \(message) in conversation \(conversation)" + at]
                }
            }
        }
    }
}
