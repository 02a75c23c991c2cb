import Foundation
import ParleyCore
import Testing

/// The GSM 03.38 basic table (3GPP TS 23.038 6.2.1), row by row, without ESC (0x1B).
private let basicTable: [Unicode.Scalar] = Array((
    "@£$¥èéùìòÇ\nØø\rÅå"
        + "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
        + " !\"#¤%&'()*+,-./"
        + "0123456789:;<=>?"
        + "¡ABCDEFGHIJKLMNO"
        + "PQRSTUVWXYZÄÖÑ\u{DC}\u{A7}"
        + "¿abcdefghijklmno"
        + "pqrstuvwxyzäöñüà"
).unicodeScalars)

/// The extension table (6.2.1.1): form feed, ^ { } \ [ ~ ] | €.
private let extensionTable: [Unicode.Scalar] = Array("\u{0C}^{}\\[~]|€".unicodeScalars)

@Suite("GSM 03.38 tables")
struct SegmentGSM7TableTests {
    @Test("the tables have 127 and 10 characters")
    func sizes() {
        #expect(basicTable.count == 127)
        #expect(Set(basicTable).count == 127)
        #expect(extensionTable.count == 10)
    }

    @Test("every basic character alone is GSM-7, one septet", arguments: basicTable)
    func basic(_ scalar: Unicode.Scalar) {
        #expect(GSM7.isBasic(scalar))
        #expect(!GSM7.isExtension(scalar))
        #expect(GSM7.septets(scalar) == 1)
        let count = SegmentCounter.count(String(scalar))
        #expect(count.encoding == .gsm7)
        #expect(count.units == 1)
        #expect(count.characters == 1)
        #expect(count.segments == 1)
        #expect(count.remaining == 159)
    }

    @Test("every extension character alone is GSM-7, two septets", arguments: extensionTable)
    func extended(_ scalar: Unicode.Scalar) {
        #expect(!GSM7.isBasic(scalar))
        #expect(GSM7.isExtension(scalar))
        #expect(GSM7.septets(scalar) == 2)
        let count = SegmentCounter.count(String(scalar))
        #expect(count.encoding == .gsm7)
        #expect(count.units == 2)
        #expect(count.remaining == 158)
    }

    @Test(
        "look-alikes and near misses are not GSM",
        arguments: [
            "`", "ç", "â", "á", "Ò", "ê", "σ", "¢", "«", "’", "“", "\t", "\u{0}", "\u{1B}",
            "\u{2126}",  // OHM SIGN, not Ω U+03A9
            "\u{2206}",  // INCREMENT, not Δ U+0394
            "\u{A0}",  // no-break space
        ] as [Unicode.Scalar])
    func notGSM(_ scalar: Unicode.Scalar) {
        #expect(GSM7.septets(scalar) == nil)
        #expect(!GSM7.isBasic(scalar))
        #expect(!GSM7.isExtension(scalar))
        let count = SegmentCounter.count(String(scalar))
        #expect(count.encoding == .ucs2)
        #expect(count.nonGsm == [String(scalar)])
    }

    @Test("no other Unicode scalar is GSM")
    func exhaustive() {
        var basic: Set<Unicode.Scalar> = []
        var extended: Set<Unicode.Scalar> = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            switch GSM7.septets(scalar) {
            case 1: basic.insert(scalar)
            case 2: extended.insert(scalar)
            case nil: break
            default: Issue.record("unexpected septets for U+\(String(value, radix: 16))")
            }
        }
        #expect(basic == Set(basicTable))
        #expect(extended == Set(extensionTable))
    }

    @Test("JSON has exactly the seven keys")
    func jsonKeys() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(SegmentCounter.count("a/b"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["encoding", "characters", "units", "segments", "remaining", "nonGsm", "display"])
        #expect(String(decoding: data, as: UTF8.self)
            == #"{"characters":3,"display":"3","encoding":"GSM-7","nonGsm":[],"remaining":157,"segments":1,"units":3}"#)
        let decoded = try JSONDecoder().decode(SegmentCount.self, from: data)
        #expect(decoded == SegmentCounter.count("a/b"))
    }
}
