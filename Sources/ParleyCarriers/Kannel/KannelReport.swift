public import ParleyCore

/// Kannel's delivery-report types (`%d` in a `dlr-url`) and what each means for a part.
public enum KannelReport {
    /// The `dlr-mask` that asks for every report: delivered (1), not delivered (2), queued at the
    /// SMSC (4), accepted by the SMSC (8), rejected by the SMSC (16).
    public static let mask = 1 + 2 + 4 + 8 + 16

    /// The part's status for report type `type`: accepted or queued by the SMSC → `sent`,
    /// delivered → `delivered`, not delivered → `undelivered`, rejected → `failed`; nil for a
    /// type Kannel does not define.
    public static func status(type: Int) -> DeliveryStatus? {
        switch type {
        case 1: .delivered
        case 2: .undelivered
        case 4, 8: .sent
        case 16: .failed
        default: nil
        }
    }
}
