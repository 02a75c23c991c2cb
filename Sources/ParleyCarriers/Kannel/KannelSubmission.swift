public import ParleyCore

/// One part of a message as Kannel's `sendsms` takes it: the part's bytes in the coding the
/// counter chose, and, for a message of several parts, its concatenation header.
public struct KannelPart: Sendable, Hashable {
    /// The part, 1-based.
    public var number: Int
    /// The message's parts.
    public var total: Int
    /// Kannel's `coding`: 0 for GSM-7 (Kannel packs the septets), 2 for UCS-2.
    public var coding: Int
    /// Kannel's `charset` for `text`: `UTF-8` for GSM-7 text, `UTF-16BE` for UCS-2.
    public var charset: String
    /// The part's text in `charset`.
    public var text: [UInt8]
    /// The user data header (``ConcatenationHeader``), for a message of several parts.
    public var udh: [UInt8]?
}

/// How a message is handed to Kannel: in exactly the parts ``SegmentCounter/parts(_:)`` packs,
/// each with its own header, never as one long text for Kannel to split (Kannel's own split of
/// a UCS-2 text cuts an emoji's surrogate pair in two: 67 emoji in 2 parts where the count
/// says 3).
public enum KannelSubmission {
    /// The parts of `text`; a text without characters is one empty part.
    public static func parts(of text: String, messageId: String) -> [KannelPart] {
        let encoding = SegmentCounter.count(text).encoding
        let coding = encoding == .ucs2 ? 2 : 0
        let charset = encoding == .ucs2 ? "UTF-16BE" : "UTF-8"
        let parts = SegmentCounter.parts(text)
        guard parts.count > 1 else {
            return [
                KannelPart(number: 1, total: 1, coding: coding, charset: charset, text: bytes(text, encoding), udh: nil)
            ]
        }
        let reference = concatenationReference(messageId)
        return parts.enumerated().map { index, part in
            KannelPart(
                number: index + 1, total: parts.count, coding: coding, charset: charset,
                text: bytes(part.text, encoding),
                udh: ConcatenationHeader.bytes(reference: reference, total: parts.count, sequence: index + 1)
            )
        }
    }

    /// The 8-bit reference that ties a message's parts together on the phone: the same for
    /// every part and every resubmission of the message (FNV-1a of its id, low byte).
    public static func concatenationReference(_ messageId: String) -> UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in messageId.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return UInt8(truncatingIfNeeded: hash)
    }

    /// The reference a connector records for a part Kannel accepted (Kannel's `sendsms` gives
    /// none): unique per message, attempt and part.
    public static func reference(connector: String, messageId: String, attempt: Int, part: Int) -> String {
        "\(connector):\(messageId):\(attempt).\(part)"
    }

    private static func bytes(_ text: String, _ encoding: SMSEncoding) -> [UInt8] {
        guard encoding == .ucs2 else { return Array(text.utf8) }
        return text.utf16.flatMap { [UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0)] }
    }
}
