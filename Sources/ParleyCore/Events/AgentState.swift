/// The presence state of an agent.
public enum AgentState: String, Sendable, Hashable, Codable, ByteCodedEnum {
    case loggedOut = "LoggedOut"
    case ready = "Ready"
    case notReady = "NotReady"
    case busy = "Busy"
    case afterCallWork = "AfterCallWork"

    /// The stored byte.
    public var byteCode: UInt8 {
        switch self {
        case .loggedOut: 0
        case .ready: 1
        case .notReady: 2
        case .busy: 3
        case .afterCallWork: 4
        }
    }

    /// Whether the state carries a call context (Busy and After Call Work).
    public var hasCall: Bool { self == .busy || self == .afterCallWork }
}

/// The call an agent is handling in Busy or After Call Work.
public struct CallContext: Sendable, Hashable, Codable, BinaryCodable {
    /// The telephony call id.
    public var callId: String
    /// The service the call came through.
    public var serviceId: String
    /// The customer's number (E.164).
    public var customerNumber: String

    /// Creates a call context.
    public init(callId: String, serviceId: String, customerNumber: String) {
        self.callId = callId
        self.serviceId = serviceId
        self.customerNumber = customerNumber
    }

    /// Writes callId, serviceId, customerNumber.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(callId)
        writer.write(serviceId)
        writer.write(customerNumber)
    }

    /// Reads callId, serviceId, customerNumber.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        callId = try reader.readString()
        serviceId = try reader.readString()
        customerNumber = try reader.readString()
    }
}
