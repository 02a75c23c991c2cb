import ParleyCore
import Testing

/// Production ids sort in the order they were made, whatever the clock does.
@Suite struct TimeOrderedIDsTests {
    /// A clock a test moves by hand.
    private final class HandClock: @unchecked Sendable {
        var millis: Int64
        init(_ millis: Int64) { self.millis = millis }
    }

    private static let alphabet = Set("0123456789abcdefghjkmnpqrstvwxyz")

    @Test func idsAreSixteenDigitsAfterTheirPrefixAndOrderedByTheClockFirst() {
        let clock = HandClock(1_780_000_000_000)
        let ids = TimeOrderedIDs(clock: { clock.millis })
        let message = ids.next(.message)
        let conversation = ids.next(.conversation)
        #expect(message.hasPrefix("m-") && conversation.hasPrefix("c-"))
        for id in [message, conversation] {
            #expect(id.count == 18 && id.dropFirst(2).allSatisfy { Self.alphabet.contains($0) }, "\(id)")
        }
        // The clock comes first: a source one millisecond ahead makes a greater id.
        let later = TimeOrderedIDs(clock: { clock.millis + 1 })
        #expect(later.next(.message) > message)
    }

    @Test func eachIdIsGreaterThanTheLastWithinAMillisecondAndWhenTheClockStepsBack() {
        let clock = HandClock(1_780_000_000_000)
        let ids = TimeOrderedIDs(clock: { clock.millis })
        var made: [String] = []
        for step in 0..<2000 {
            if step == 700 { clock.millis -= 3_600_000 }  // an hour back
            if step % 3 == 0 { clock.millis += 1 }
            made.append(String(ids.next(step % 2 == 0 ? .message : .conversation).dropFirst(2)))
        }
        #expect(made == made.sorted())
        #expect(Set(made).count == made.count)
    }

    @Test func resumingAfterStoredIdsKeepsNewOnesAboveThemAndIgnoresOtherForms() {
        let stored = TimeOrderedIDs(clock: { 1_800_000_000_000 })
        let newest = stored.next(.message)
        let clock = HandClock(1_700_000_000_000)  // a restart with the clock far behind
        let ids = TimeOrderedIDs(clock: { clock.millis })
        #expect(ids.next(.message) < newest)
        ids.resume(after: ["c-1", "m-2", "not an id", "m-ILLEGAL0000000O", newest])
        let next = ids.next(.message)
        #expect(next > newest, "\(next) after \(newest)")
    }
}
