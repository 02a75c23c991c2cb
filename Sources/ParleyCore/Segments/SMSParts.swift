/// One part of an SMS, as ``SegmentCounter`` packed it.
public struct SMSPart: Sendable, Hashable {
    /// The part's text; the parts' texts joined are the message's text, scalar for scalar.
    public var text: String
    /// Its units: septets in GSM-7 (an extension character is two), UTF-16 code units in UCS-2.
    public var units: Int

    public init(text: String, units: Int) {
        self.text = text
        self.units = units
    }
}

extension SegmentCounter {
    /// The parts `text` is sent in, exactly as ``count(_:)`` packs them: one part when the text
    /// fits a single message, else parts of at most 153 septets or 67 code units, never splitting
    /// a grapheme cluster that fits a part, and never an escape or a surrogate pair.
    ///
    /// A connector submits these parts itself (each with a ``ConcatenationHeader``) instead of
    /// letting a gateway split the text, so the carrier gets the parts the count promised: a
    /// gateway splitting UCS-2 every 67 code units cuts an emoji's surrogate pair in two.
    ///
    /// - Returns: no part for empty text; `count(text).segments` parts otherwise.
    public static func parts(_ text: String) -> [SMSPart] {
        // The count decides the encoding and whether the text is one message; the packing of a
        // longer one is the count's own (``pack(_:isGSM:into:cluster:newPart:)``).
        let count = count(text)
        guard count.segments > 1 else { return count.segments == 0 ? [] : [SMSPart(text: text, units: count.units)] }
        let scalars = text.unicodeScalars
        var packer = PartPacker(capacity: count.encoding.partCapacity)
        var parts: [SMSPart] = []
        var partStart = text.startIndex
        pack(
            text, isGSM: count.encoding == .gsm7, into: &packer,
            newPart: { index, units in
                parts.append(SMSPart(text: String(scalars[partStart..<index]), units: units))
                partStart = index
            })
        parts.append(SMSPart(text: String(scalars[partStart..<text.endIndex]), units: packer.fill))
        return parts
    }
}

/// The user data header that makes parts one concatenated message (3GPP TS 23.040 9.2.3.24.1,
/// the information element with an 8-bit reference): `05 00 03 reference total sequence`.
public enum ConcatenationHeader {
    /// The header of part `sequence` (1-based) of `total`, all parts sharing `reference`; nil
    /// when `total` is not 2...255 or `sequence` is not 1...total.
    public static func bytes(reference: UInt8, total: Int, sequence: Int) -> [UInt8]? {
        guard (2...255).contains(total), (1...total).contains(sequence) else { return nil }
        return [0x05, 0x00, 0x03, reference, UInt8(total), UInt8(sequence)]
    }
}
