import ParleyCore
import Testing

@Suite("Directory")
struct DirectoryTests {
    @Test func putServiceRecordsItAndRoutesItsNumber() throws {
        let h = Harness()
        let events = h.events(.putService(PutService(
            serviceId: "sales", name: "Sales", smsNumber: "+15550000001", smsEnabled: true, inboundChats: true
        )))
        #expect(events == [.serviceConfigured(ServiceConfigured(
            serviceId: "sales", name: "Sales", smsNumber: "+15550000001", smsEnabled: true, inboundChats: true
        ))])
        #expect(h.log.first?.stream == "service:sales")
        #expect(h.log.first?.streamVersion == 1)
        #expect(try h.projections.serviceId(forNumber: "+15550000001") == "sales")
        #expect(try h.projections.service("sales")?.inboundChats == true)
    }

    @Test func putAgentRecordsItLoggedOutWithItsDid() throws {
        let h = Harness()
        h.given(Fx.directory[0])
        let events = h.events(.putAgent(PutAgent(
            agentId: "alice", displayName: "Alice", did: "+15551110001", smsAllowed: true, services: ["sales", "sales"]
        )))
        // Duplicate services are recorded once.
        #expect(events == [.agentConfigured(AgentConfigured(
            agentId: "alice", displayName: "Alice", did: "+15551110001", smsAllowed: true, services: ["sales"]
        ))])
        let agent = h.agent("alice")
        #expect(agent?.state == .loggedOut)
        #expect(agent?.services == ["sales"])
        #expect(try h.projections.agentId(forDid: "+15551110001") == "alice")
    }

    @Test func reconfiguringAnAgentKeepsItsPresence() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(.setState(SetState(agentId: "bob", state: .ready)))
        h.given(.putAgent(PutAgent(agentId: "bob", displayName: "Robert", services: [Fx.sales])))
        #expect(h.agent("bob")?.state == .ready)
        #expect(h.agent("bob")?.displayName == "Robert")
        #expect(h.log.last?.streamVersion == 4)  // configured, logged in, state, configured
        h.expectRebuildMatches()
    }

    @Test func putTemplateAndSettings() throws {
        let h = Fx.harness()
        #expect(h.events(.putTemplate(PutTemplate(templateId: "greet", title: "Greeting", text: "Hello!", services: [Fx.sales])))
            == [.templateConfigured(TemplateConfigured(templateId: "greet", title: "Greeting", text: "Hello!", services: [Fx.sales]))])
        h.given(.putTemplate(PutTemplate(templateId: "bye", title: "Bye", text: "Bye!")))
        #expect(try h.projections.templates(for: Fx.support).map(\.templateId) == ["bye"])
        #expect(try h.projections.templates(for: Fx.sales).map(\.templateId) == ["bye", "greet"])

        #expect(try h.projections.settings() == SettingsConfigured(smsCounterEnabled: true, maxSegments: 10))
        #expect(h.events(.putSettings(PutSettings(smsCounterEnabled: false, maxSegments: 3)))
            == [.settingsConfigured(SettingsConfigured(smsCounterEnabled: false, maxSegments: 3))])
        #expect(try h.projections.settings() == SettingsConfigured(smsCounterEnabled: false, maxSegments: 3))
        #expect(h.log.last?.stream == "settings")
        h.expectRebuildMatches()
    }

    @Test(arguments: [0, 256, -1])
    func settingsOutOfRangeAreRefused(maxSegments: Int) {
        let h = Harness()
        h.expectRefused(
            .putSettings(PutSettings(smsCounterEnabled: true, maxSegments: maxSegments)),
            .invalidArgument(field: "maxSegments", reason: "must be between 1 and 255"), code: "InvalidArgument"
        )
    }

    static let badIdentifiers = ["", "has space", "ünï", "a/b", String(repeating: "x", count: 65)]

    @Test(arguments: badIdentifiers)
    func invalidIdsAreRefused(id: String) {
        let h = Fx.harness()
        let reason = "use 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'"
        h.expectRefused(
            .putAgent(PutAgent(agentId: id, displayName: "X", services: [])),
            .invalidArgument(field: "agentId", reason: reason), code: "InvalidArgument"
        )
        h.expectRefused(
            .putService(PutService(serviceId: id, name: "X", smsNumber: nil, smsEnabled: false, inboundChats: false)),
            .invalidArgument(field: "serviceId", reason: reason), code: "InvalidArgument"
        )
        h.expectRefused(
            .putTemplate(PutTemplate(templateId: id, title: "X", text: "X")),
            .invalidArgument(field: "templateId", reason: reason), code: "InvalidArgument"
        )
    }

    @Test func longestValidIdIsAccepted() {
        let h = Harness()
        let id = "A-z_0." + String(repeating: "x", count: 58)
        #expect(id.count == 64)
        #expect(h.events(.putAgent(PutAgent(agentId: id, displayName: "X", services: []))).count == 1)
    }

    @Test func emptyDisplayNameIsRefused() {
        let h = Harness()
        h.expectRefused(
            .putAgent(PutAgent(agentId: "a", displayName: "", services: [])),
            .invalidArgument(field: "displayName", reason: "must not be empty"), code: "InvalidArgument"
        )
    }

    @Test func unknownServiceReferencedIsRefused() {
        let h = Fx.harness()
        h.expectRefused(
            .putAgent(PutAgent(agentId: "erin", displayName: "Erin", services: [Fx.sales, "nope"])),
            .unknownService("nope"), code: "UnknownService"
        )
        h.expectRefused(
            .putTemplate(PutTemplate(templateId: "t", title: "T", text: "x", services: ["nope"])),
            .unknownService("nope"), code: "UnknownService"
        )
    }

    @Test func invalidNumbersAreRefused() {
        let h = Fx.harness()
        h.expectRefused(
            .putAgent(PutAgent(agentId: "erin", displayName: "Erin", did: "5551234", services: [])),
            .invalidNumber(field: "did", value: "5551234"), code: "InvalidNumber"
        )
        h.expectRefused(
            .putService(PutService(serviceId: "x", name: "X", smsNumber: "+0123", smsEnabled: true, inboundChats: false)),
            .invalidNumber(field: "smsNumber", value: "+0123"), code: "InvalidNumber"
        )
    }

    @Test func numberAlreadyInUseIsRefused() {
        let h = Fx.harness()
        // A service number taken by another service.
        h.expectRefused(
            .putService(PutService(serviceId: "other", name: "O", smsNumber: Fx.salesNumber, smsEnabled: true, inboundChats: false)),
            .numberInUse(number: Fx.salesNumber, holder: "service \"sales\""), code: "NumberInUse"
        )
        // A service number taken by an agent's DID.
        h.expectRefused(
            .putService(PutService(serviceId: "other", name: "O", smsNumber: Fx.aliceDid, smsEnabled: true, inboundChats: false)),
            .numberInUse(number: Fx.aliceDid, holder: "agent \"alice\""), code: "NumberInUse"
        )
        // A DID taken by another agent.
        h.expectRefused(
            .putAgent(PutAgent(agentId: "bob", displayName: "Bob", did: Fx.aliceDid, services: [])),
            .numberInUse(number: Fx.aliceDid, holder: "agent \"alice\""), code: "NumberInUse"
        )
        // A DID taken by a service.
        h.expectRefused(
            .putAgent(PutAgent(agentId: "bob", displayName: "Bob", did: Fx.supportNumber, services: [])),
            .numberInUse(number: Fx.supportNumber, holder: "service \"support\""), code: "NumberInUse"
        )
        // Re-putting the holder itself with its own number is fine.
        #expect(h.events(.putAgent(PutAgent(agentId: "alice", displayName: "Alice 2", did: Fx.aliceDid, services: []))).count == 1)
        #expect(h.events(.putService(PutService(serviceId: Fx.sales, name: "S2", smsNumber: Fx.salesNumber, smsEnabled: true, inboundChats: false))).count == 1)
    }

    @Test func serviceWithSmsButNoNumberIsRefused() {
        let h = Harness()
        let reason = "a service with SMS or inbound chats needs an SMS number"
        h.expectRefused(
            .putService(PutService(serviceId: "x", name: "X", smsNumber: nil, smsEnabled: true, inboundChats: false)),
            .invalidArgument(field: "smsNumber", reason: reason), code: "InvalidArgument"
        )
        h.expectRefused(
            .putService(PutService(serviceId: "x", name: "X", smsNumber: nil, smsEnabled: false, inboundChats: true)),
            .invalidArgument(field: "smsNumber", reason: reason), code: "InvalidArgument"
        )
    }

    @Test func changingAServiceNumberMovesTheRoutingIndex() throws {
        let h = Fx.harness()
        h.given(.putService(PutService(serviceId: Fx.sales, name: "Sales", smsNumber: "+15550000099", smsEnabled: true, inboundChats: false)))
        #expect(try h.projections.serviceId(forNumber: Fx.salesNumber) == nil)
        #expect(try h.projections.serviceId(forNumber: "+15550000099") == Fx.sales)
        // The old number no longer routes.
        let events = h.events(Fx.inbound(to: Fx.salesNumber))
        #expect(events == [.inboundIgnored(InboundIgnored(
            messageId: "m-1", from: Fx.cust1, to: Fx.salesNumber, text: "Hi", attachments: [], reason: .unknownNumber,
            conversationId: nil, carrierReference: nil
        ))])
        #expect(h.log.last?.stream == "unrouted")
        // The old number is free for another service.
        #expect(h.events(.putService(PutService(serviceId: "new", name: "N", smsNumber: Fx.salesNumber, smsEnabled: true, inboundChats: false))).count == 1)
        h.expectRebuildMatches()
    }

    @Test func removingAServiceNumberUnroutesIt() throws {
        let h = Fx.harness()
        h.given(.putService(PutService(serviceId: Fx.paused, name: "P", smsNumber: nil, smsEnabled: false, inboundChats: false)))
        #expect(try h.projections.serviceId(forNumber: Fx.pausedNumber) == nil)
        h.expectRebuildMatches()
    }

    @Test func changingADidMovesTheRoutingIndex() throws {
        let h = Fx.harness()
        let newDid = "+15551110099"
        h.given(.putAgent(PutAgent(agentId: "alice", displayName: "Alice", did: newDid, services: [Fx.sales])))
        #expect(try h.projections.agentId(forDid: Fx.aliceDid) == nil)
        #expect(try h.projections.agentId(forDid: newDid) == "alice")
        // The old DID no longer routes to alice.
        #expect(h.events(Fx.inbound(to: Fx.aliceDid)) == [.inboundIgnored(InboundIgnored(
            messageId: "m-1", from: Fx.cust1, to: Fx.aliceDid, text: "Hi", attachments: [], reason: .unknownNumber,
            conversationId: nil, carrierReference: nil
        ))])
        #expect(h.agent("alice")?.unread == 0)
        // The new one does.
        #expect(h.events(Fx.inbound(to: newDid)).first == Fx.opened("c-2", service: nil, agent: "alice", local: newDid, kind: .did, origin: .customer))
        #expect(h.agent("alice")?.unread == 1)
        // Bob may take the old DID now.
        #expect(h.events(.putAgent(PutAgent(agentId: "bob", displayName: "Bob", did: Fx.aliceDid, services: []))).count == 1)
        h.expectRebuildMatches()
    }
}
