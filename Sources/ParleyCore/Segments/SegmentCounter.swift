/// Counts what a text costs to send as SMS.
///
/// Rules (3GPP TS 23.038 / 23.040):
/// - GSM-7 when every scalar is in the GSM 03.38 basic or extension table,
///   else UCS-2 counted in UTF-16 code units.
/// - One message holds 160 septets or 70 units; a longer text is sent in
///   parts of 153 septets or 67 units.
/// - Whole grapheme clusters are packed greedily into parts, so an escape
///   pair, a surrogate pair or a cluster is never split. A cluster bigger
///   than a whole part is split at Unicode-scalar boundaries, each scalar
///   keeping its escape or surrogate pair.
/// - Text is counted as it is, without normalisation.
public enum SegmentCounter {
    /// Counts `text` as an SMS.
    ///
    /// Units come from Unicode scalars and characters from grapheme clusters,
    /// so `"\r\n"` is one character but two septets. Empty text is GSM-7 with
    /// 0 segments and 160 remaining.
    ///
    /// - Parameter text: The message body, exactly as it will be sent.
    /// - Returns: The encoding, sizes, segments and the characters forcing UCS-2.
    public static func count(_ text: String) -> SegmentCount {
        if text.isEmpty {
            return SegmentCount(
                encoding: .gsm7, characters: 0, units: 0, segments: 0, remaining: 160, nonGsm: [])
        }
        if let ascii = countASCII(text) {
            return ascii
        }
        return countUnicode(text)
    }

    /// Builds the result once units and the multi-part packing are known.
    private static func finish(
        _ encoding: SMSEncoding, characters: Int, units: Int, packer: PartPacker, nonGsm: [String]
    ) -> SegmentCount {
        let single = encoding.singleCapacity
        let segments = units <= single ? 1 : packer.parts
        let remaining = units <= single ? single - units : packer.capacity - packer.fill
        return SegmentCount(
            encoding: encoding, characters: characters, units: units,
            segments: segments, remaining: remaining, nonGsm: nonGsm)
    }

    /// Fast path for all-ASCII text, walking UTF-8 bytes only.
    ///
    /// In ASCII the only multi-scalar grapheme cluster is CR LF, so no
    /// grapheme segmentation is needed. Returns `nil` for non-ASCII text.
    private static func countASCII(_ text: String) -> SegmentCount? {
        var text = text
        return text.withUTF8 { bytes -> SegmentCount? in
            var isGSM = true
            for byte in bytes {
                if byte >= 0x80 { return nil }
                if GSM7.cost(UInt32(byte)) == 0 { isGSM = false }
            }
            let encoding: SMSEncoding = isGSM ? .gsm7 : .ucs2
            var packer = PartPacker(capacity: encoding.partCapacity)
            var characters = 0
            var units = 0
            var seen = (low: UInt64(0), high: UInt64(0))
            var nonGsm: [String] = []
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                let cost = Int(GSM7.cost(UInt32(byte)))
                if cost == 0 {
                    appendOnce(byte, to: &nonGsm, seen: &seen)
                }
                var weight = isGSM ? cost : 1
                index += 1
                if byte == 0x0D, index < bytes.count, bytes[index] == 0x0A {
                    weight += 1  // LF costs one septet or one code unit either way
                    index += 1
                }
                characters += 1
                units += weight
                packer.place(weight)
            }
            return finish(encoding, characters: characters, units: units, packer: packer, nonGsm: nonGsm)
        }
    }

    /// Appends the ASCII character `byte` to `list` unless already seen.
    private static func appendOnce(
        _ byte: UInt8, to list: inout [String], seen: inout (low: UInt64, high: UInt64)
    ) {
        let bit = UInt64(1) << UInt64(byte & 63)
        if byte < 64 {
            guard seen.low & bit == 0 else { return }
            seen.low |= bit
        } else {
            guard seen.high & bit == 0 else { return }
            seen.high |= bit
        }
        list.append(String(Unicode.Scalar(byte)))
    }

    /// General path: grapheme clusters for characters and packing, scalars for units.
    private static func countUnicode(_ text: String) -> SegmentCount {
        let scalars = text.unicodeScalars
        var isGSM = true
        for scalar in scalars where GSM7.cost(scalar.value) == 0 {
            isGSM = false
            break
        }
        let encoding: SMSEncoding = isGSM ? .gsm7 : .ucs2
        var packer = PartPacker(capacity: encoding.partCapacity)
        var characters = 0
        var units = 0
        var nonGsm: [String] = []
        var seen: Set<ExactCluster> = []
        pack(text, isGSM: isGSM, into: &packer) { cluster, weight, forcesUCS2 in
            if forcesUCS2 {
                let key = ExactCluster(text: Substring(cluster))
                if seen.insert(key).inserted { nonGsm.append(String(key.text)) }
            }
            characters += 1
            units += weight
        }
        return finish(encoding, characters: characters, units: units, packer: packer, nonGsm: nonGsm)
    }

    /// The packing rule, in one place for the count and for ``parts(_:)``: places each grapheme
    /// cluster of `text` into `packer` whole when it fits a part, else scalar by scalar, so an
    /// escape or a surrogate pair never straddles two parts.
    /// - Parameters:
    ///   - cluster: sees each cluster, its units and whether it forces UCS-2 (a scalar outside
    ///     GSM 03.38), before it is placed.
    ///   - newPart: sees where each new part begins and the units of the part it ends.
    @inline(__always)
    static func pack(
        _ text: String, isGSM: Bool, into packer: inout PartPacker,
        cluster: (Substring.UnicodeScalarView, Int, Bool) -> Void = { _, _, _ in },
        newPart: (String.Index, Int) -> Void = { _, _ in }
    ) {
        let scalars = text.unicodeScalars
        @inline(__always) func place(_ weight: Int, at index: String.Index) {
            let filled = packer.fill
            if packer.place(weight) { newPart(index, filled) }
        }
        var start = text.startIndex
        while start < text.endIndex {
            let end = text.index(after: start)
            let scalarsOfCluster = scalars[start..<end]
            var weight = 0
            var forcesUCS2 = false
            for scalar in scalarsOfCluster {
                weight += weightOf(scalar, isGSM: isGSM)
                if !isGSM && GSM7.cost(scalar.value) == 0 { forcesUCS2 = true }
            }
            cluster(scalarsOfCluster, weight, forcesUCS2)
            if packer.fitsWhole(weight) {
                place(weight, at: start)
            } else {
                var index = start
                while index < end {
                    place(weightOf(scalars[index], isGSM: isGSM), at: index)
                    index = scalars.index(after: index)
                }
            }
            start = end
        }
    }

    /// The units one scalar costs: septets in GSM-7, UTF-16 code units in UCS-2.
    @inline(__always)
    static func weightOf(_ scalar: Unicode.Scalar, isGSM: Bool) -> Int {
        isGSM ? Int(GSM7.cost(scalar.value)) : UTF16.width(scalar)
    }
}

/// A grapheme cluster compared by its exact scalars, not by canonical equivalence.
///
/// `String` equality treats `"\u{1F9}"` and `"n\u{300}"` as equal; the
/// report must not, because the text is counted as it is.
private struct ExactCluster: Hashable {
    let text: Substring

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.text.unicodeScalars.elementsEqual(rhs.text.unicodeScalars)
    }

    func hash(into hasher: inout Hasher) {
        for scalar in text.unicodeScalars { hasher.combine(scalar.value) }
    }
}
