import ParleyCore
import Testing

@testable import ParleyCarriers

@Suite("Kannel mapping")
struct KannelMappingTests {
    @Test("report types map onto the status lattice; unknown types map to nothing")
    func reportTypes() {
        #expect(KannelReport.mask == 31)
        #expect(KannelReport.status(type: 1) == .delivered)
        #expect(KannelReport.status(type: 2) == .undelivered)
        #expect(KannelReport.status(type: 4) == .sent)
        #expect(KannelReport.status(type: 8) == .sent)
        #expect(KannelReport.status(type: 16) == .failed)
        #expect(KannelReport.status(type: 0) == nil)
        #expect(KannelReport.status(type: 3) == nil)
    }

    @Test("67 emoji go in the 3 counted parts, as UTF-16BE, no surrogate pair split, one reference for all")
    func emojiParts() throws {
        let text = String(repeating: "😀", count: 67)
        let parts = KannelSubmission.parts(of: text, messageId: "m-1")
        #expect(parts.count == SegmentCounter.count(text).segments)
        #expect(parts.count == 3)
        #expect(parts.allSatisfy { $0.coding == 2 && $0.charset == "UTF-16BE" })
        let reference = KannelSubmission.concatenationReference("m-1")
        for part in parts {
            #expect(part.udh == [0x05, 0x00, 0x03, reference, 3, UInt8(part.number)])
            let units = stride(from: 0, to: part.text.count, by: 2).map {
                UInt16(part.text[$0]) << 8 | UInt16(part.text[$0 + 1])
            }
            #expect(String(validating: units, as: UTF16.self) != nil, "part \(part.number) holds whole emoji")
        }
        #expect(parts.map(\.text.count).reduce(0, +) == 67 * 4)
    }

    @Test("a one-part GSM-7 text has no header; an empty text is one empty part")
    func singleParts() {
        let parts = KannelSubmission.parts(of: "Hello @£$", messageId: "m-2")
        #expect(
            parts == [
                KannelPart(number: 1, total: 1, coding: 0, charset: "UTF-8", text: Array("Hello @£$".utf8), udh: nil)
            ])
        #expect(KannelSubmission.parts(of: "", messageId: "m-3").map(\.text) == [[]])
    }

    @Test("percent-encoding round-trips any bytes; malformed escapes are refused")
    func percentEncoding() {
        let bytes: [UInt8] = [0x00, 0xD8, 0x3D, 0x20, 0x2B, 0x26, 0x3D, 0x41, 0x7E]
        let encoded = PercentEncoding.encode(bytes)
        #expect(encoded == "%00%D8%3D%20%2B%26%3DA~")
        #expect(PercentEncoding.decode(encoded[...]) == bytes)
        #expect(PercentEncoding.decode("a+b"[...]) == Array("a b".utf8))
        #expect(PercentEncoding.decode("%4"[...]) == nil)
        #expect(PercentEncoding.decode("%zz"[...]) == nil)
        #expect(PercentEncoding.queryItems("a=1&b=%00&a=2"[...]) == ["a": [0x31], "b": [0x00]])
    }

    @Test("signatures verify only for the signed text and the same secret")
    func signatures() throws {
        let signer = try #require(CallbackSigner(secret: Array("0123456789abcdef".utf8)))
        let other = try #require(CallbackSigner(secret: Array("fedcba9876543210".utf8)))
        let signature = signer.signature("dlr\nm-1\n2\nkannel:m-1:1.2")
        #expect(signature.count == 64)
        #expect(signer.verify(Array(signature.utf8), for: "dlr\nm-1\n2\nkannel:m-1:1.2"))
        #expect(signer.verify(Array(signature.uppercased().utf8), for: "dlr\nm-1\n2\nkannel:m-1:1.2"))
        #expect(!signer.verify(Array(signature.utf8), for: "dlr\nm-1\n3\nkannel:m-1:1.2"))
        #expect(!other.verify(Array(signature.utf8), for: "dlr\nm-1\n2\nkannel:m-1:1.2"))
        #expect(!signer.verify(Array(signature.dropLast().utf8), for: "dlr\nm-1\n2\nkannel:m-1:1.2"))
        #expect(CallbackSigner(secret: Array("short".utf8)) == nil)
    }

    @Test("inbound SMS: UCS-2 bytes decode, numbers become E.164, bad input is refused with a reason")
    func inbound() throws {
        let ucs2: [UInt8] = [0x00, 0x48, 0x00, 0x69, 0xD8, 0x3D, 0xDE, 0x00]
        let message = try KannelInbound(items: [
            "from": Array("15557654321".utf8), "to": Array("+15550100100".utf8), "text": ucs2,
            "coding": Array("2".utf8), "charset": Array("UTF-16BE".utf8), "id": Array("abc".utf8),
        ])
        #expect(message == KannelInbound(from: "+15557654321", to: "+15550100100", text: "Hi😀", id: "abc"))
        #expect(KannelInbound.e164("0044770090012") == "+44770090012")
        #expect(KannelInbound.e164("short code") == "short code")
        #expect(throws: KannelInbound.Refusal(reason: "id is missing")) {
            try KannelInbound(items: ["from": Array("1".utf8), "to": Array("2".utf8)])
        }
        #expect(throws: KannelInbound.Refusal(reason: "a UCS-2 text has an odd number of bytes")) {
            try KannelInbound(items: [
                "from": [0x31], "to": [0x32], "id": [0x33], "text": [0x00], "coding": Array("2".utf8),
            ])
        }
    }
}
