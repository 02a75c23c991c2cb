public import Logging
public import ParleyClient
import ParleyProtocol

/// The start of the connector contract (`schemas/protocol/README.md`, "Carrier connectors"):
/// every outbound message a connector owes its carrier, each handed over once.
///
/// It pages through `carrier.pending` and follows `MessageSent` events from the first page's
/// `asOf` (and the daemon's own `SystemMessageSent`), so no message sent meanwhile is missed. It hands over the messages no carrier has
/// accepted that have no submission or whose latest submission is this connector's (it died
/// before the acceptance was recorded), and leaves those of other connectors. A message both
/// in a page and in the live events is handed over once.
public struct ConnectorFollower: Sendable {
    /// Messages asked of `carrier.pending` per page.
    static let pageSize = 100

    let client: ParleyClient
    let connector: String
    let logger: Logger

    /// A follower for the connector named `connector`.
    public init(client: ParleyClient, connector: String, logger: Logger) {
        self.client = client
        self.connector = connector
        self.logger = logger
    }

    /// Calls `handle` with each message owed, until the client is closed or the task cancelled.
    /// - Throws: a refusal of `carrier.pending` or of the subscription (the connector lacks the
    ///   carrier role, say); a lost daemon is waited for, not thrown.
    public func run(_ handle: (OutboundMessage) async -> Void) async throws {
        var seen = Set<String>()
        var after: UInt64?
        var firstAsOf: UInt64?
        var lastAsOf: UInt64 = 0
        while true {
            var params: [String: JSONValue] = ["limit": .integer(Int64(Self.pageSize))]
            if let after { params["after"] = .integer(Int64(after)) }
            let page = try await pending(params)
            let asOf = page["asOf"]?.uint64 ?? 0
            if firstAsOf == nil { firstAsOf = asOf }
            lastAsOf = asOf
            let messages = page["messages"]?.array ?? []
            for record in messages {
                guard let message = OutboundMessage(record: record) else { continue }
                seen.insert(message.messageId)
                if let owner = message.submittedBy, owner != connector { continue }
                await handle(message)
            }
            guard messages.count == Self.pageSize, let next = page["next"]?.uint64 else { break }
            after = next
        }
        let filter: JSONValue = ["types": ["MessageSent", "SystemMessageSent"]]
        for try await notification in client.events(after: firstAsOf, filter: filter) {
            guard case .event(let position, let event, _) = notification,
                let message = OutboundMessage(sentEvent: event, position: position)
            else { continue }
            if position <= lastAsOf {
                // Sent while the pages were read: it may have been in one.
                if seen.contains(message.messageId) { continue }
            } else if !seen.isEmpty {
                seen = []
            }
            await handle(message)
        }
    }

    /// One `carrier.pending` page; waits out a daemon that is down.
    private func pending(_ params: [String: JSONValue]) async throws -> JSONValue {
        while true {
            do {
                return try await client.call("carrier.pending", params)
            } catch {
                if case .closed = error { throw error }
                if let remote = error.remote, !remote.retryable { throw error }
                logger.warning("carrier.pending failed; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
