public import ParleyCore

/// The demo directory `make run` seeds into an empty log: a service with SMS and
/// customer-initiated chats, a voice-only service, two agents (one with a DID), two
/// predefined messages.
public enum DemoDirectory {
    /// The commands, in order.
    public static let commands: [Command] = [
        .putService(PutService(serviceId: "support", name: "Customer Support", smsNumber: "+15550100100", smsEnabled: true, inboundChats: true)),
        .putService(PutService(serviceId: "voice", name: "Voice Line", smsNumber: nil, smsEnabled: false, inboundChats: false)),
        .putAgent(PutAgent(agentId: "alice", displayName: "Alice Example", did: "+15550100201", services: ["support"])),
        .putAgent(PutAgent(agentId: "bob", displayName: "Bob Example", services: ["support", "voice"])),
        .putTemplate(PutTemplate(templateId: "greeting", title: "Greeting", text: "Hello! This is your support team. How can we help?")),
        .putTemplate(PutTemplate(
            templateId: "confirmation", title: "Confirmation number", text: "Your confirmation number is {number}.", services: ["support"]
        )),
        .putSettings(PutSettings(smsCounterEnabled: true, maxSegments: 10)),
    ]
}
