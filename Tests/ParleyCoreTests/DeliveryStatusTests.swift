import ParleyCore
import Testing

/// Two reports in order and the status the transcript must show after both.
struct LatticeCase: Sendable, CustomTestStringConvertible {
    let first: DeliveryStatus
    let second: DeliveryStatus
    let effective: DeliveryStatus
    var testDescription: String { "\(first.rawValue) then \(second.rawValue) → \(effective.rawValue)" }
}

@Suite("Delivery status")
struct DeliveryStatusTests {
    /// A harness where bob sent m-2 in c-1.
    private func sentOne() -> Harness {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob", text: "Hello"))
        return h
    }

    private func report(_ status: DeliveryStatus, detail: String? = nil) -> Command {
        report("m-2", status, detail: detail)
    }

    private func report(_ id: String?, ref: String? = nil, _ status: DeliveryStatus, detail: String? = nil) -> Command {
        .reportDelivery(ReportDelivery(messageId: id, carrierReference: ref, status: status, detail: detail))
    }

    private func reported(_ status: DeliveryStatus, ref: String? = nil, detail: String? = nil, id: String = "m-2") -> Event {
        .deliveryReported(DeliveryReported(conversationId: "c-1", messageId: id, status: status, carrierReference: ref, detail: detail))
    }

    @Test func queuedSentDeliveredShowsInTheTranscript() {
        let h = sentOne()
        #expect(h.message("m-2")?.status == .queued)
        #expect(h.events(report(.sent)) == [reported(.sent)])
        #expect(h.message("m-2")?.status == .sent)
        #expect(h.events(report(.delivered)) == [reported(.delivered)])
        #expect(h.message("m-2")?.status == .delivered)
        #expect(h.log.last?.stream == "conversation:c-1")
        h.expectRebuildMatches()
    }

    @Test func lateSentAfterDeliveredIsRecordedButDoesNotMoveTheStatus() {
        let h = sentOne()
        h.given(report(.delivered))
        let head = h.head
        #expect(h.events(report(.sent, detail: "late")) == [reported(.sent, detail: "late")])
        #expect(h.head == head + 1)  // recorded for audit
        #expect(h.message("m-2")?.status == .delivered)
        #expect(h.message("m-2")?.statusDetail == nil)
        h.expectRebuildMatches()
    }

    @Test func duplicateReportsAreHarmless() {
        let h = sentOne()
        h.given(report(.sent), report(.delivered))
        let before = h.message("m-2")
        #expect(h.events(report(.delivered)) == [reported(.delivered)])
        #expect(h.events(report(.delivered)) == [reported(.delivered)])
        #expect(h.message("m-2") == before)
        h.expectRebuildMatches()
    }

    @Test func detailFollowsTheEffectiveStatus() {
        let h = sentOne()
        h.given(report(.sent, detail: "accepted by SMSC"), report(.failed, detail: "E42 handset unreachable"))
        #expect(h.message("m-2")?.status == .failed)
        #expect(h.message("m-2")?.statusDetail == "E42 handset unreachable")
        h.given(report(.delivered, detail: "too late"))
        #expect(h.message("m-2")?.status == .failed)
        #expect(h.message("m-2")?.statusDetail == "E42 handset unreachable")
    }

    static let lattice: [LatticeCase] = {
        let q = DeliveryStatus.queued, s = DeliveryStatus.sent, d = DeliveryStatus.delivered
        let u = DeliveryStatus.undelivered, f = DeliveryStatus.failed
        // first → [second: effective]
        let table: [(DeliveryStatus, [(DeliveryStatus, DeliveryStatus)])] = [
            (q, [(q, q), (s, s), (d, d), (u, u), (f, f)]),
            (s, [(q, s), (s, s), (d, d), (u, u), (f, f)]),
            (d, [(q, d), (s, d), (d, d), (u, d), (f, d)]),
            (u, [(q, u), (s, u), (d, u), (u, u), (f, u)]),
            (f, [(q, f), (s, f), (d, f), (u, f), (f, f)]),
        ]
        return table.flatMap { first, rows in rows.map { LatticeCase(first: first, second: $0.0, effective: $0.1) } }
    }()

    @Test(arguments: lattice)
    func statusNeverMovesBackwards(_ c: LatticeCase) {
        let h = sentOne()
        #expect(h.events(report(c.first)) == [reported(c.first)])
        #expect(h.events(report(c.second)) == [reported(c.second)])
        #expect(h.message("m-2")?.status == c.effective)
        #expect(h.transcript("c-1").first?.status == c.effective)
        h.expectRebuildMatches()
    }

    @Test func latticeTableCoversEveryPair() {
        #expect(Self.lattice.count == DeliveryStatus.allCases.count * DeliveryStatus.allCases.count)
    }

    @Test func reportByCarrierReferenceAfterItWasRegistered() throws {
        let h = sentOne()
        #expect(h.events(report("m-2", ref: "smsc-77", .sent)) == [reported(.sent, ref: "smsc-77")])
        #expect(h.message("m-2")?.carrierReference == "smsc-77")
        #expect(try h.projections.messageId(carrierReference: "smsc-77") == "m-2")
        #expect(h.events(report(nil, ref: "smsc-77", .delivered)) == [reported(.delivered, ref: "smsc-77")])
        #expect(h.message("m-2")?.status == .delivered)
        h.expectRebuildMatches()
    }

    @Test func unknownMessageIsRefused() {
        let h = sentOne()
        h.expectRefused(report("m-99", .sent), .unknownMessage("m-99"), code: "UnknownMessage")
        h.expectRefused(report(nil, ref: "never-seen", .sent), .unknownMessage("never-seen"), code: "UnknownMessage")
        h.expectRefused(
            report(nil, .sent),
            .invalidArgument(field: "messageId", reason: "name the message by messageId or carrierReference"),
            code: "InvalidArgument"
        )
    }

    @Test func reportOnAnInboundMessageIsRefused() {
        let h = sentOne()
        h.given(Fx.inbound(from: Fx.cust1, to: Fx.salesNumber, "Thanks"))
        #expect(h.transcript("c-1").last?.messageId == "m-3")
        h.expectRefused(report("m-3", .delivered), .notOutbound(messageId: "m-3"), code: "NotOutbound")
    }

    @Test func carrierReferenceNamingAnotherMessageIsRefused() {
        let h = sentOne()
        h.given(Fx.send("bob", text: "Second"))  // m-3
        h.given(report("m-2", ref: "R1", .sent))
        h.expectRefused(
            report("m-3", ref: "R1", .sent), .carrierReferenceInUse(reference: "R1", messageId: "m-2"),
            code: "CarrierReferenceInUse"
        )
        // The same reference for its own message is fine.
        #expect(h.events(report("m-2", ref: "R1", .delivered)) == [reported(.delivered, ref: "R1")])
        h.expectRefused(
            report("m-3", ref: "", .sent), .invalidArgument(field: "carrierReference", reason: "must not be empty"),
            code: "InvalidArgument"
        )
    }

    @Test func reportsStillApplyAfterTheChatEnded() {
        let h = sentOne()
        h.given(.endChat(EndChat(agentId: "bob", conversationId: "c-1")))
        #expect(h.events(report(.delivered)) == [reported(.delivered)])
        #expect(h.message("m-2")?.status == .delivered)
        #expect(h.transcript("c-1").count == 1)
    }
}
