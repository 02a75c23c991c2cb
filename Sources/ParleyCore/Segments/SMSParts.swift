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
        let scalars = text.unicodeScalars
        guard !scalars.isEmpty else { return [] }
        let isGSM = !scalars.contains { GSM7.cost($0.value) == 0 }
        let encoding: SMSEncoding = isGSM ? .gsm7 : .ucs2
        let total = scalars.reduce(0) { $0 + weightOf($1, isGSM: isGSM) }
        if total <= encoding.singleCapacity { return [SMSPart(text: text, units: total)] }

        var packer = PartPacker(capacity: encoding.partCapacity)
        var parts: [SMSPart] = []
        var partStart = text.startIndex
        var partUnits = 0
        func place(_ weight: Int, at index: String.Index) {
            if packer.place(weight) {
                parts.append(SMSPart(text: String(scalars[partStart..<index]), units: partUnits))
                partStart = index
                partUnits = 0
            }
            partUnits += weight
        }
        var start = text.startIndex
        while start < text.endIndex {
            let end = text.index(after: start)
            let cluster = scalars[start..<end]
            let weight = cluster.reduce(0) { $0 + weightOf($1, isGSM: isGSM) }
            if packer.fitsWhole(weight) {
                place(weight, at: start)
            } else {
                // As the counter does: a cluster bigger than a part goes scalar by scalar.
                var index = start
                while index < end {
                    place(weightOf(scalars[index], isGSM: isGSM), at: index)
                    index = scalars.index(after: index)
                }
            }
            start = end
        }
        parts.append(SMSPart(text: String(scalars[partStart..<text.endIndex]), units: partUnits))
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
