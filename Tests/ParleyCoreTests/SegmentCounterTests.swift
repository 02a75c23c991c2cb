import Foundation
import ParleyCore
import Testing

/// `n` copies of `s`.
private func rep(_ s: String, _ n: Int) -> String { String(repeating: s, count: n) }

/// One expected count, computed by hand from the GSM 03.38 / concatenation rules.
struct Expected: Sendable, CustomTestStringConvertible {
    let label: String
    let text: String
    let encoding: SMSEncoding
    let characters: Int
    let units: Int
    let segments: Int
    let remaining: Int
    var testDescription: String { label }
}

private let cy = "й"  // U+0439: one UTF-16 unit, not GSM
private let emoji = "😀"  // U+1F600: a surrogate pair
private let family = "👨‍👩‍👧‍👦"  // 7 scalars, 11 UTF-16 units, 1 cluster

@Suite("Segment counting")
struct SegmentCounterTests {
    static let gsmCases: [Expected] = [
        .init(label: "empty", text: "", encoding: .gsm7, characters: 0, units: 0, segments: 0, remaining: 160),
        .init(label: "a", text: "a", encoding: .gsm7, characters: 1, units: 1, segments: 1, remaining: 159),
        .init(label: "CR LF", text: "\r\n", encoding: .gsm7, characters: 1, units: 2, segments: 1, remaining: 158),
        .init(label: "160 a", text: rep("a", 160), encoding: .gsm7, characters: 160, units: 160, segments: 1, remaining: 0),
        .init(label: "161 a", text: rep("a", 161), encoding: .gsm7, characters: 161, units: 161, segments: 2, remaining: 145),
        .init(label: "306 a", text: rep("a", 306), encoding: .gsm7, characters: 306, units: 306, segments: 2, remaining: 0),
        .init(label: "307 a", text: rep("a", 307), encoding: .gsm7, characters: 307, units: 307, segments: 3, remaining: 152),
        .init(label: "158 a + €", text: rep("a", 158) + "€", encoding: .gsm7, characters: 159, units: 160, segments: 1, remaining: 0),
        .init(label: "159 a + €", text: rep("a", 159) + "€", encoding: .gsm7, characters: 160, units: 161, segments: 2, remaining: 145),
        // Part 1 holds 152 a; € (escape pair) would be septets 153-154, so it moves: part 2 = 2 + 7.
        .init(label: "152 a + € + 7 a", text: rep("a", 152) + "€" + rep("a", 7), encoding: .gsm7, characters: 160, units: 161, segments: 2, remaining: 144),
        // 306 septets would fit 2 parts, but € moving leaves part 2 = 2 + 151 and one a for part 3.
        .init(label: "152 a + € + 152 a", text: rep("a", 152) + "€" + rep("a", 152), encoding: .gsm7, characters: 305, units: 306, segments: 3, remaining: 152),
        .init(label: "152 a + { + 152 a", text: rep("a", 152) + "{" + rep("a", 152), encoding: .gsm7, characters: 305, units: 306, segments: 3, remaining: 152),
        // CR LF is one cluster: it is never split, so it moves like an escape pair.
        .init(label: "152 a + CRLF + 7 a", text: rep("a", 152) + "\r\n" + rep("a", 7), encoding: .gsm7, characters: 160, units: 161, segments: 2, remaining: 144),
        .init(label: "152 a + CR + LF", text: rep("a", 152) + "\r" + rep("a", 7) + "\n", encoding: .gsm7, characters: 161, units: 161, segments: 2, remaining: 145),
        // Non-ASCII GSM text (é is basic-table U+00E9).
        .init(label: "160 é", text: rep("é", 160), encoding: .gsm7, characters: 160, units: 160, segments: 1, remaining: 0),
        .init(label: "161 é", text: rep("é", 161), encoding: .gsm7, characters: 161, units: 161, segments: 2, remaining: 145),
        .init(label: "152 é + € + 152 é", text: rep("é", 152) + "€" + rep("é", 152), encoding: .gsm7, characters: 305, units: 306, segments: 3, remaining: 152),
        .init(label: "152 é + CRLF + 7 é", text: rep("é", 152) + "\r\n" + rep("é", 7), encoding: .gsm7, characters: 160, units: 161, segments: 2, remaining: 144),
        .init(label: "Greek", text: "ΔΦΓΛΩΠΨΣΘΞ", encoding: .gsm7, characters: 10, units: 10, segments: 1, remaining: 150),
        .init(label: "héllo €", text: "héllo €", encoding: .gsm7, characters: 7, units: 8, segments: 1, remaining: 152),
    ]

    static let ucs2Cases: [Expected] = [
        .init(label: "70 й", text: rep(cy, 70), encoding: .ucs2, characters: 70, units: 70, segments: 1, remaining: 0),
        .init(label: "71 й", text: rep(cy, 71), encoding: .ucs2, characters: 71, units: 71, segments: 2, remaining: 63),
        .init(label: "134 й", text: rep(cy, 134), encoding: .ucs2, characters: 134, units: 134, segments: 2, remaining: 0),
        .init(label: "135 й", text: rep(cy, 135), encoding: .ucs2, characters: 135, units: 135, segments: 3, remaining: 66),
        .init(label: "emoji", text: emoji, encoding: .ucs2, characters: 1, units: 2, segments: 1, remaining: 68),
        .init(label: "68 й + emoji", text: rep(cy, 68) + emoji, encoding: .ucs2, characters: 69, units: 70, segments: 1, remaining: 0),
        // Part 1 holds 66 units; the surrogate pair would be units 67-68, so it moves: part 2 = 2 + 3.
        .init(label: "66 й + emoji + 3 й", text: rep(cy, 66) + emoji + rep(cy, 3), encoding: .ucs2, characters: 70, units: 71, segments: 2, remaining: 62),
        // 134 units would fit 2 parts, but the pair moving leaves part 2 = 2 + 65 and one й for part 3.
        .init(label: "66 й + emoji + 66 й", text: rep(cy, 66) + emoji + rep(cy, 66), encoding: .ucs2, characters: 133, units: 134, segments: 3, remaining: 66),
        .init(label: "family", text: family, encoding: .ucs2, characters: 1, units: 11, segments: 1, remaining: 59),
        // The 11-unit cluster does not fit after 60 units, so all of it goes to part 2.
        .init(label: "60 й + family", text: rep(cy, 60) + family, encoding: .ucs2, characters: 61, units: 71, segments: 2, remaining: 56),
        // A two-unit decomposed cluster at the boundary moves whole.
        .init(label: "66 й + e◌́ + 3 й", text: rep(cy, 66) + "e\u{301}" + rep(cy, 3), encoding: .ucs2, characters: 70, units: 71, segments: 2, remaining: 62),
        // One 81-unit cluster is bigger than a part: split at scalars, 67 + 14.
        .init(label: "e + 80 accents", text: "e" + rep("\u{301}", 80), encoding: .ucs2, characters: 1, units: 81, segments: 2, remaining: 53),
        // Oversized cluster after 10 units: its scalars fill part 1 (57 more), 24 go to part 2.
        .init(label: "10 й + e + 80 accents", text: rep(cy, 10) + "e" + rep("\u{301}", 80), encoding: .ucs2, characters: 11, units: 91, segments: 2, remaining: 43),
        // Oversized cluster starting with a surrogate pair at unit 67: the pair is not split.
        .init(label: "66 й + emoji + 70 accents", text: rep(cy, 66) + emoji + rep("\u{301}", 70), encoding: .ucs2, characters: 67, units: 138, segments: 3, remaining: 62),
        // GSM characters cost one UTF-16 unit each in UCS-2, extension ones too.
        .init(label: "й€", text: "й€", encoding: .ucs2, characters: 2, units: 2, segments: 1, remaining: 68),
        .init(label: "й + CRLF", text: "й\r\n", encoding: .ucs2, characters: 2, units: 3, segments: 1, remaining: 67),
        // ASCII text that is not GSM (backtick, tab).
        .init(label: "a`b", text: "a`b", encoding: .ucs2, characters: 3, units: 3, segments: 1, remaining: 67),
        .init(label: "tab", text: "\t", encoding: .ucs2, characters: 1, units: 1, segments: 1, remaining: 69),
        .init(label: "` + CRLF", text: "`\r\n", encoding: .ucs2, characters: 2, units: 3, segments: 1, remaining: 67),
        .init(label: "` + 69 a", text: "`" + rep("a", 69), encoding: .ucs2, characters: 70, units: 70, segments: 1, remaining: 0),
        .init(label: "` + 70 a", text: "`" + rep("a", 70), encoding: .ucs2, characters: 71, units: 71, segments: 2, remaining: 63),
        .init(label: "` + 65 a + CRLF + 3 a", text: "`" + rep("a", 65) + "\r\n" + rep("a", 3), encoding: .ucs2, characters: 70, units: 71, segments: 2, remaining: 62),
    ]

    @Test("GSM-7 counts", arguments: gsmCases)
    func gsm7(_ expected: Expected) { check(expected) }

    @Test("UCS-2 counts", arguments: ucs2Cases)
    func ucs2(_ expected: Expected) { check(expected) }

    private func check(_ expected: Expected) {
        let count = SegmentCounter.count(expected.text)
        #expect(count.encoding == expected.encoding)
        #expect(count.characters == expected.characters)
        #expect(count.units == expected.units)
        #expect(count.segments == expected.segments)
        #expect(count.remaining == expected.remaining)
        #expect(count.display == (expected.segments > 1
            ? "\(expected.characters) (\(expected.segments) messages)" : "\(expected.characters)"))
        if expected.encoding == .gsm7 { #expect(count.nonGsm.isEmpty) }
    }

    @Test(
        "display strings",
        arguments: [
            ("", "0"), ("a", "1"), (rep("a", 160), "160"), (rep("a", 161), "161 (2 messages)"),
            (rep("a", 190), "190 (2 messages)"), (rep("a", 307), "307 (3 messages)"),
            (rep(cy, 71), "71 (2 messages)"), (family, "1"),
        ])
    func display(_ text: String, _ expected: String) {
        #expect(SegmentCounter.count(text).display == expected)
    }

    @Test(
        "characters forcing UCS-2, in first-appearance order, de-duplicated",
        arguments: [
            ("e\u{301}", ["e\u{301}"]),
            ("çabç`â`Ä", ["ç", "`", "â"]),
            ("a`b`", ["`"]),
            ("Hi 😀 😀 \(family)!", [emoji, family]),
            // Canonically equivalent but different scalars: both reported, nothing normalised.
            ("\u{1F9}n\u{300}\u{1F9}", ["\u{1F9}", "n\u{300}"]),
            ("€é{ñ", []),
        ])
    func nonGsm(_ text: String, _ expected: [String]) {
        let reported = SegmentCounter.count(text).nonGsm
        #expect(reported.map { Array($0.unicodeScalars) } == expected.map { Array($0.unicodeScalars) })
    }

    @Test("a decomposed é is not the GSM é")
    func decomposedIsNotNormalised() throws {
        let count = SegmentCounter.count("e\u{301}")
        #expect(count.encoding == .ucs2)
        #expect(count.characters == 1)
        #expect(count.units == 2)
        let first = try #require(count.nonGsm.first)
        #expect(first.unicodeScalars.map(\.value) == [0x65, 0x301])
        #expect(SegmentCounter.count("\u{E9}").encoding == .gsm7)
    }
}
