import ParleyCore
import Testing

/// The units `text` costs in `encoding`, recomputed scalar by scalar.
private func units(_ text: String, _ encoding: SMSEncoding) -> Int {
    text.unicodeScalars.reduce(0) { sum, scalar in
        sum + (encoding == .gsm7 ? (GSM7.septets(scalar) ?? 0) : UTF16.width(scalar))
    }
}

/// Checks the parts of `text` against its count: as many as its segments, the text back when
/// joined, each part within its capacity and costing what it says.
private func checkParts(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let count = SegmentCounter.count(text)
    let parts = SegmentCounter.parts(text)
    #expect(parts.count == count.segments, "\(text.debugDescription)", sourceLocation: sourceLocation)
    let joined = parts.map(\.text).joined()
    #expect(joined.unicodeScalars.elementsEqual(text.unicodeScalars), sourceLocation: sourceLocation)
    let capacity = parts.count == 1 ? count.encoding.singleCapacity : count.encoding.partCapacity
    for part in parts {
        #expect(part.units <= capacity, sourceLocation: sourceLocation)
        #expect(part.units == units(part.text, count.encoding), sourceLocation: sourceLocation)
        #expect(!part.text.isEmpty, sourceLocation: sourceLocation)
    }
    #expect(parts.reduce(0) { $0 + $1.units } == count.units, sourceLocation: sourceLocation)
    if parts.count > 1, let last = parts.last {
        #expect(count.remaining == count.encoding.partCapacity - last.units, sourceLocation: sourceLocation)
    }
}

@Suite("SMS parts as the counter packs them")
struct SegmentPartsTests {
    @Test(
        "every text of the counter's tables splits into its counted segments",
        arguments: SegmentCounterTests.gsmCases + SegmentCounterTests.ucs2Cases)
    func tables(_ expected: Expected) {
        checkParts(expected.text)
    }

    @Test("67 emoji: 3 parts of whole surrogate pairs (33, 33, 1), where splitting every 67 code units gives 2")
    func emoji() {
        let parts = SegmentCounter.parts(String(repeating: "😀", count: 67))
        #expect(parts.map(\.units) == [66, 66, 2])
        #expect(parts.map { $0.text.unicodeScalars.count } == [33, 33, 1])
    }

    @Test("an escape character never straddles two parts: € at septet 153 moves to the second part")
    func escapeAtBoundary() {
        let text = String(repeating: "a", count: 152) + "€" + String(repeating: "b", count: 10)
        let parts = SegmentCounter.parts(text)
        #expect(parts.map(\.units) == [152, 12])
        #expect(parts.last?.text.hasPrefix("€") == true)
    }

    @Test("a cluster that fits a part is never split; one bigger than a part is split between scalars")
    func clusters() {
        let family = "👨‍👩‍👧‍👦"  // 11 code units, one cluster
        let text = String(repeating: "й", count: 60) + family + "й"
        let parts = SegmentCounter.parts(text)
        #expect(parts.map(\.units) == [60, 12])
        #expect(parts.last?.text.hasPrefix(family) == true)
        // 80 combining marks on one letter: one cluster of 81 code units, bigger than any part.
        let huge = "a" + String(repeating: "\u{0301}", count: 80) + "й"
        checkParts(huge)
        #expect(SegmentCounter.parts(huge).count == 2)
    }

    @Test("the empty text has no part; a text that fits one message is one part, itself")
    func singles() {
        #expect(SegmentCounter.parts("").isEmpty)
        #expect(
            SegmentCounter.parts(String(repeating: "a", count: 160)) == [
                SMSPart(text: String(repeating: "a", count: 160), units: 160)
            ])
        #expect(SegmentCounter.parts(String(repeating: "a", count: 161)).map(\.units) == [153, 8])
        #expect(SegmentCounter.parts("\r\n").map(\.units) == [2])
    }

    @Test("random texts of GSM, extension, Cyrillic, emoji, ZWJ sequences, combining marks and CR LF")
    func random() {
        let pieces = ["a", "Z", " ", "€", "{", "\r\n", "\n", "é", "й", "😀", "👨‍👩‍👧‍👦", "e\u{0301}", "🇫🇷", "ß", "^"]
        var generator = SplitMix64(seed: 2026)
        for round in 0..<1_500 {
            // Half the texts stay in GSM-7 (the first seven pieces), half may not.
            let alphabet = round.isMultiple(of: 2) ? Array(pieces.prefix(7)) : pieces
            let length = Int(generator.next() % 400)
            let text = (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }.joined()
            checkParts(text)
        }
    }

    @Test("the concatenation header: 05 00 03 reference total sequence, only for 2...255 parts")
    func header() {
        #expect(
            ConcatenationHeader.bytes(reference: 0x2A, total: 3, sequence: 2) == [0x05, 0x00, 0x03, 0x2A, 0x03, 0x02])
        #expect(ConcatenationHeader.bytes(reference: 1, total: 1, sequence: 1) == nil)
        #expect(ConcatenationHeader.bytes(reference: 1, total: 3, sequence: 0) == nil)
        #expect(ConcatenationHeader.bytes(reference: 1, total: 3, sequence: 4) == nil)
        #expect(ConcatenationHeader.bytes(reference: 1, total: 256, sequence: 1) == nil)
    }
}
