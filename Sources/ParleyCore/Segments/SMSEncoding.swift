/// The character encoding an SMS is sent in.
///
/// A message is sent as ``gsm7`` when every character is in the GSM 03.38
/// default alphabet or its extension table; otherwise the whole message is
/// sent as ``ucs2`` and costs one unit per UTF-16 code unit.
public enum SMSEncoding: String, Sendable, Hashable, Codable {
    /// The GSM 03.38 7-bit default alphabet (with its extension table).
    ///
    /// Counted in septets: one per basic-table character, two per extension
    /// character (escape plus code).
    case gsm7 = "GSM-7"

    /// UCS-2, counted in UTF-16 code units.
    ///
    /// A character outside the Basic Multilingual Plane (most emoji) is a
    /// surrogate pair and costs two units.
    case ucs2 = "UCS-2"

    /// How many units fit in a message that is sent as a single part.
    ///
    /// 160 septets for GSM-7, 70 code units for UCS-2.
    public var singleCapacity: Int {
        switch self {
        case .gsm7: 160
        case .ucs2: 70
        }
    }

    /// How many units fit in each part of a concatenated (multi-part) message.
    ///
    /// 153 septets for GSM-7, 67 code units for UCS-2: the rest of each part
    /// carries the concatenation header.
    public var partCapacity: Int {
        switch self {
        case .gsm7: 153
        case .ucs2: 67
        }
    }
}
