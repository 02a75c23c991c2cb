public import ParleyCore

/// Twilio's `MessageStatus` values and what each says about a Parley message.
public enum TwilioStatus {
    /// The delivery status `messageStatus` reports, or nil for a step that changes nothing
    /// (`accepted`, `scheduled`, `queued`, `sending`: the message stays queued; inbound
    /// statuses such as `receiving` and `received`).
    public static func status(_ messageStatus: String) -> DeliveryStatus? {
        switch messageStatus {
        case "sent": .sent
        case "delivered", "read": .delivered
        case "undelivered": .undelivered
        case "failed", "canceled": .failed
        default: nil
        }
    }
}
