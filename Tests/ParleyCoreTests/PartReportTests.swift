import ParleyCore
import Testing

/// A connector that submits a long message in its counted parts reports each part; the
/// message's status and its acceptance follow from the parts'.
@Suite("Messages in parts")
struct PartReportTests {
    /// 400 GSM-7 characters: three parts of at most 153 septets.
    static let longText = String(repeating: "abcdefghij", count: 40)

    /// A harness where bob sent m-2, three parts long, in c-1.
    private func sentLong() -> Harness {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob", text: Self.longText))
        return h
    }

    private func report(_ part: Int, _ status: DeliveryStatus, ref: String? = nil, detail: String? = nil) -> Command {
        .reportDelivery(
            ReportDelivery(messageId: "m-2", carrierReference: ref, status: status, detail: detail, part: part))
    }

    private func partReported(_ part: Int, _ status: DeliveryStatus, ref: String? = nil, detail: String? = nil) -> Event
    {
        .partReported(
            PartReported(
                conversationId: "c-1", messageId: "m-2", part: part, status: status, carrierReference: ref,
                detail: detail
            ))
    }

    private func reported(_ status: DeliveryStatus, detail: String? = nil) -> Event {
        .deliveryReported(
            DeliveryReported(
                conversationId: "c-1", messageId: "m-2", status: status, carrierReference: nil, detail: detail
            ))
    }

    @Test(
        "the message is accepted once every part has a reference, sent once every part is, delivered once every part is"
    )
    func acceptedSentAndDeliveredByEveryPart() throws {
        let h = sentLong()
        #expect(h.message("m-2")?.segments == 3)
        // Given parts 1 and 3 accepted by the gateway (queued there), part 2 not yet.
        #expect(h.events(report(1, .queued, ref: "k-1")) == [partReported(1, .queued, ref: "k-1")])
        h.given(report(3, .queued, ref: "k-3"))
        // Then the message still waits for a carrier: a restarted connector submits part 2.
        #expect(try h.projections.awaitingCarrier().map(\.messageId) == ["m-2"])
        #expect(h.message("m-2")?.parts.map(\.part) == [1, 3])
        #expect(h.message("m-2")?.awaitsCarrier == true)
        // When part 2 is accepted too, the message is accepted but still queued.
        h.given(report(2, .queued, ref: "k-2"))
        #expect(try h.projections.awaitingCarrier().isEmpty)
        #expect(try h.projections.awaitingReport().map(\.messageId) == ["m-2"])
        #expect(h.message("m-2")?.status == .queued)
        #expect(h.message("m-2")?.carrierReferences == ["k-1", "k-3", "k-2"])
        // The SMSC takes parts 1 and 2: not sent until part 3 is.
        #expect(h.events(report(1, .sent)) == [partReported(1, .sent)])
        h.given(report(2, .sent, ref: "smsc-2"))
        #expect(h.message("m-2")?.status == .queued)
        #expect(h.events(report(3, .sent)) == [partReported(3, .sent), reported(.sent)])
        #expect(h.message("m-2")?.status == .sent)
        // Delivered parts, out of order; the message is delivered with the last one.
        #expect(h.events(report(3, .delivered)) == [partReported(3, .delivered)])
        h.given(report(1, .delivered))
        #expect(h.message("m-2")?.status == .sent)
        #expect(h.events(report(2, .delivered)) == [partReported(2, .delivered), reported(.delivered)])
        #expect(h.message("m-2")?.status == .delivered)
        #expect(try h.projections.awaitingReport().isEmpty)
        // Each part shows its status and references, and each reference names the message.
        #expect(
            h.message("m-2")?.parts == [
                PartStatus(part: 1, status: .delivered, carrierReferences: ["k-1"]),
                PartStatus(part: 2, status: .delivered, carrierReferences: ["k-2", "smsc-2"]),
                PartStatus(part: 3, status: .delivered, carrierReferences: ["k-3"]),
            ])
        #expect(try h.projections.messageId(carrierReference: "smsc-2") == "m-2")
        h.expectRebuildMatches()
    }

    @Test(
        "one undelivered or failed part makes the message so at once, with the part's detail",
        arguments: [DeliveryStatus.undelivered, .failed])
    func onePartFailingFailsTheMessage(_ failure: DeliveryStatus) throws {
        let h = sentLong()
        h.given(report(1, .sent, ref: "k-1"), report(2, .sent, ref: "k-2"), report(3, .sent, ref: "k-3"))
        h.given(report(1, .delivered))
        #expect(
            h.events(report(2, failure, detail: "err:011"))
                == [partReported(2, failure, detail: "err:011"), reported(failure, detail: "err:011")])
        #expect(h.message("m-2")?.status == failure)
        #expect(h.message("m-2")?.statusDetail == "err:011")
        // The other parts' later reports are recorded and move nothing: the first final status wins.
        #expect(h.events(report(3, .delivered)) == [partReported(3, .delivered)])
        #expect(h.message("m-2")?.status == failure)
        #expect(h.message("m-2")?.parts.map(\.status) == [.delivered, failure, .delivered])
        h.expectRebuildMatches()
    }

    @Test("a part that fails before the others are accepted fails the message, which then awaits no carrier")
    func aFailedPartEndsTheWait() throws {
        let h = sentLong()
        h.given(report(1, .failed, detail: "rejected"))
        #expect(h.message("m-2")?.status == .failed)
        #expect(try h.projections.awaitingCarrier().isEmpty)
        #expect(try h.projections.awaitingReport().isEmpty)
        h.expectRebuildMatches()
    }

    @Test("duplicate and late part reports are recorded and harmless")
    func duplicatesAreHarmless() throws {
        let h = sentLong()
        h.given(report(1, .delivered, ref: "k-1"))
        #expect(h.events(report(1, .delivered, ref: "k-1")) == [partReported(1, .delivered, ref: "k-1")])
        #expect(h.events(report(1, .sent)) == [partReported(1, .sent)], "a late report does not move the part back")
        #expect(h.message("m-2")?.parts == [PartStatus(part: 1, status: .delivered, carrierReferences: ["k-1"])])
        #expect(h.message("m-2")?.status == .queued)
        h.expectRebuildMatches()
    }

    @Test("a part report names the message by a part's reference")
    func byReference() throws {
        let h = sentLong()
        h.given(report(1, .sent, ref: "k-1"))
        let byReference = Command.reportDelivery(ReportDelivery(carrierReference: "k-1", status: .delivered, part: 1))
        #expect(h.events(byReference) == [partReported(1, .delivered, ref: "k-1")])
    }

    @Test("a part outside the message's parts is refused; a one-part message has part 1")
    func partOutOfRange() throws {
        let h = sentLong()
        h.expectRefused(
            report(4, .sent, ref: "k-4"),
            .invalidArgument(field: "part", reason: "must be between 1 and 3, the parts of message m-2"),
            code: "InvalidArgument"
        )
        h.given(Fx.send("bob", text: "Short"))  // m-3
        let one = Command.reportDelivery(
            ReportDelivery(messageId: "m-3", carrierReference: "k", status: .delivered, part: 1))
        #expect(h.events(one).count == 2, "part 1 of 1, and the message delivered")
        #expect(h.message("m-3")?.status == .delivered)
        let two = Command.reportDelivery(ReportDelivery(messageId: "m-3", status: .delivered, part: 2))
        h.expectRefused(
            two, .invalidArgument(field: "part", reason: "must be between 1 and 1, the parts of message m-3"),
            code: "InvalidArgument"
        )
    }

    @Test("a part report with a reference of another message is refused")
    func referenceInUse() throws {
        let h = sentLong()
        h.given(Fx.send("bob", text: "Short"))  // m-3
        h.given(.reportDelivery(ReportDelivery(messageId: "m-3", carrierReference: "R", status: .sent)))
        h.expectRefused(
            report(1, .sent, ref: "R"), .carrierReferenceInUse(reference: "R", messageId: "m-3"),
            code: "CarrierReferenceInUse"
        )
    }
}
