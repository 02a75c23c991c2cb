/// Delivery status of an outbound message, a lattice that never moves backwards.
///
/// `queued` < `sent` < {`delivered`, `undelivered`, `failed`}. The three final
/// statuses are terminal: the first one reported wins.
public enum DeliveryStatus: String, Sendable, Hashable, Codable, ByteCodedEnum {
    case queued
    case sent
    case delivered
    case undelivered
    case failed

    /// The stored byte.
    public var byteCode: UInt8 {
        switch self {
        case .queued: 0
        case .sent: 1
        case .delivered: 2
        case .undelivered: 3
        case .failed: 4
        }
    }

    /// The height in the lattice: 0 queued, 1 sent, 2 final.
    public var rank: Int {
        switch self {
        case .queued: 0
        case .sent: 1
        case .delivered, .undelivered, .failed: 2
        }
    }

    /// Whether a report of `next` moves a message that is now `self`.
    public func advances(to next: DeliveryStatus) -> Bool { next.rank > rank }
}
