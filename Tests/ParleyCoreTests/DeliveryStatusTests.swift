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
        #expect(h.message("m-2")?.carrierReferences == ["smsc-77"])
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

    @Test("every reference given with its messageId names the message; one naming another is still refused")
    func everyReferenceGivenWithTheMessageIdNamesIt() throws {
        let h = sentOne()
        h.given(Fx.send("bob", text: "Second"))  // m-3
        h.given(report("m-2", ref: "R1", .sent))
        #expect(h.events(report(nil, ref: "R1", .sent)) == [reported(.sent, ref: "R1")])
        // A resubmission (or the next part of a long message) reports under a new reference.
        #expect(h.events(report("m-2", ref: "R2", .delivered)) == [reported(.delivered, ref: "R2")])
        #expect(h.message("m-2")?.carrierReferences == ["R1", "R2"])
        #expect(try h.projections.messageId(carrierReference: "R1") == "m-2")
        #expect(try h.projections.messageId(carrierReference: "R2") == "m-2")
        #expect(h.events(report(nil, ref: "R2", .delivered)) == [reported(.delivered, ref: "R2")])
        // Giving a known reference again adds nothing.
        h.given(report("m-2", ref: "R1", .delivered))
        #expect(h.message("m-2")?.carrierReferences == ["R1", "R2"])
        h.expectRefused(
            report("m-3", ref: "R2", .sent), .carrierReferenceInUse(reference: "R2", messageId: "m-2"),
            code: "CarrierReferenceInUse"
        )
        h.expectRebuildMatches()
    }

    @Test("a report under the simulator's reference attaches it after another carrier reported first")
    func simulatorReferenceAfterAnotherReport() throws {
        let h = sentOne()
        h.given(report("m-2", ref: "R1", .sent))
        h.given(report("m-2", ref: "sim-m-2", .sent))
        #expect(h.events(report(nil, ref: "sim-m-2", .delivered)) == [reported(.delivered, ref: "sim-m-2")])
        #expect(h.message("m-2")?.status == .delivered)
    }
}

@Suite("Carrier submissions")
struct SubmissionTests {
    private func submit(_ id: String, _ connector: String = "kannel") -> Command {
        .submitMessage(SubmitMessage(messageId: id, connector: connector))
    }

    private func submitted(_ id: String, attempt: Int, _ connector: String = "kannel") -> Event {
        .messageSubmitted(MessageSubmitted(conversationId: "c-1", messageId: id, connector: connector, attempt: attempt))
    }

    @Test("a submission is recorded with its attempt; the message awaits a carrier until one gives a reference")
    func submissionsCountAttemptsUntilAccepted() throws {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob", text: "Hello"), Fx.send("bob", text: "Second"))  // m-2, m-3 in c-1
        #expect(try h.projections.awaitingCarrier().map(\.messageId) == ["m-2", "m-3"])
        #expect(h.events(submit("m-2")) == [submitted("m-2", attempt: 1)])
        #expect(h.message("m-2")?.submission?.connector == "kannel")
        #expect(h.events(submit("m-2")) == [submitted("m-2", attempt: 2)], "a resubmission after a restart")
        #expect(h.message("m-2")?.submission?.attempt == 2)
        #expect(try h.projections.awaitingCarrier().map(\.messageId) == ["m-2", "m-3"], "submitted is not accepted")
        // Acceptance: the carrier's reference.
        h.given(.reportDelivery(ReportDelivery(messageId: "m-2", carrierReference: "R1", status: .sent)))
        #expect(try h.projections.awaitingCarrier().map(\.messageId) == ["m-3"])
        #expect(try h.projections.awaitingCarrier(after: h.message("m-2")?.position).map(\.messageId) == ["m-3"])
        h.expectRefused(
            submit("m-2"), .messageAlreadyAccepted(messageId: "m-2", status: .sent), code: "MessageAlreadyAccepted"
        )
        #expect(try h.projections.awaitingReport().map(\.messageId) == ["m-2"], "accepted: owed a final report")
        // A final status without a reference also ends the wait, and owes no report.
        h.given(.reportDelivery(ReportDelivery(messageId: "m-3", status: .failed, detail: "no route")))
        #expect(try h.projections.awaitingCarrier().isEmpty)
        #expect(try h.projections.awaitingReport().map(\.messageId) == ["m-2"])
        h.given(.reportDelivery(ReportDelivery(carrierReference: "R1", status: .delivered)))
        #expect(try h.projections.awaitingReport().isEmpty)
        h.expectRebuildMatches()
    }

    @Test func badSubmissionsAreRefused() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob", text: "Hello"))
        h.given(Fx.inbound(from: Fx.cust1, to: Fx.salesNumber, "Thanks"))  // m-3, inbound
        h.expectRefused(submit("m-99"), .unknownMessage("m-99"), code: "UnknownMessage")
        h.expectRefused(submit("m-3"), .notOutbound(messageId: "m-3"), code: "NotOutbound")
        h.expectRefused(
            submit("m-2", "bad name!"),
            .invalidArgument(field: "connector", reason: "use 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'"),
            code: "InvalidArgument"
        )
    }
}
