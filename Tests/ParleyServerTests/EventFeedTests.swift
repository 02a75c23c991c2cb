import ParleyCore
import ParleyServer
import ParleyStore
import Testing

/// The feed's memory of recent events, which live subscriptions read instead of the log.
@Suite struct EventFeedTests {
    private func events(_ positions: ClosedRange<UInt64>) -> [FeedEvent] {
        positions.map { position in
            FeedEvent(RecordedEvent(
                position: position, stream: "settings", streamVersion: position, timestamp: 0, actor: .system,
                idempotencyKey: nil, event: .settingsConfigured(SettingsConfigured(smsCounterEnabled: true, maxSegments: Int(position % 10) + 1))
            ))
        }
    }

    private func head(_ position: UInt64) -> LogHead { LogHead(position: position, hash: .zero) }

    @Test func servesWhatItHoldsAndSendsOlderReadsToTheLog() {
        let feed = EventFeed(head: 10, capacity: 8)
        #expect(feed.recentEvents(after: 10, limit: 5)?.isEmpty == true)
        #expect(feed.recentEvents(after: 3, limit: 5) == nil, "nothing in memory yet: read the log")
        feed.publish(head(13), events: events(11...13))
        #expect(feed.recentEvents(after: 10, limit: 100)?.map(\.recorded.position) == [11, 12, 13])
        #expect(feed.recentEvents(after: 11, limit: 1)?.map(\.recorded.position) == [12])
        #expect(feed.recentEvents(after: 13, limit: 5)?.isEmpty == true)
        #expect(feed.recentEvents(after: 9, limit: 5) == nil)
        #expect(feed.recentEvents(after: 12, limit: 5)?.map(\.recorded) == events(13...13).map(\.recorded))
    }

    @Test func keepsTheNewestWhenFullInOrder() {
        let feed = EventFeed(head: 0, capacity: 8)
        var position: UInt64 = 0
        for size in [3, 5, 7, 2] {
            let next = position + UInt64(size)
            feed.publish(head(next), events: events((position + 1)...next))
            position = next
        }
        // 17 published, 8 kept: 10...17.
        #expect(feed.recentEvents(after: 9, limit: 100)?.map(\.recorded.position) == Array(10...17))
        #expect(feed.recentEvents(after: 8, limit: 100) == nil)
        #expect(feed.recentEvents(after: 14, limit: 2)?.map(\.recorded.position) == [15, 16])
    }

    @Test func aHeadWithoutItsEventsStartsTheMemoryAgain() {
        let feed = EventFeed(head: 0, capacity: 8)
        feed.publish(head(3), events: events(1...3))
        feed.publish(head(5))
        #expect(feed.recentEvents(after: 3, limit: 10) == nil)
        feed.publish(head(7), events: events(7...7))  // a gap: 6 is missing
        #expect(feed.recentEvents(after: 5, limit: 10) == nil)
        feed.publish(head(9), events: events(8...9))
        #expect(feed.recentEvents(after: 7, limit: 10)?.map(\.recorded.position) == [8, 9])
    }
}
