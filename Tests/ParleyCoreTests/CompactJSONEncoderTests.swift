import Foundation
import ParleyCore
import Testing

/// `CompactJSONEncoder` must write exactly what `JSONEncoder` with sorted keys and unescaped
/// slashes writes: event lines and answers are documented, golden-tested and hashed by clients.
@Suite struct CompactJSONEncoderTests {
    private static let oracle: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    private func expectSame(_ value: some Encodable, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expected = String(decoding: try Self.oracle.encode(value), as: UTF8.self)
        #expect(try CompactJSONEncoder().encode(value) == expected, sourceLocation: sourceLocation)
    }

    @Test(arguments: Samples.recorded)
    func everyEventTypeMatchesJSONEncoder(_ recorded: RecordedEvent) throws {
        try expectSame(recorded)
    }

    @Test(arguments: Samples.recorded)
    func eventWriterWritesWhatTheEncoderWrites(_ recorded: RecordedEvent) throws {
        var bytes: [UInt8] = []
        recorded.writeJSON(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == String(decoding: try Self.oracle.encode(recorded), as: UTF8.self))
        // Appended after what the buffer holds, with the chain fields in key order.
        bytes = Array("x".utf8)
        recorded.writeJSON(to: &bytes, chain: (hash: "h\u{1}", prevHash: "p"))
        let chained = String(decoding: try Self.oracle.encode(Chained(recorded: recorded, hash: "h\u{1}", prevHash: "p")), as: UTF8.self)
        #expect(String(decoding: bytes, as: UTF8.self) == "x" + chained)
    }

    @Test(arguments: Samples.recorded)
    func storedBytesGiveTheSameJSON(_ recorded: RecordedEvent) throws {
        var expected: [UInt8] = []
        recorded.writeJSON(to: &expected)
        let binary = recorded.binaryEncoded
        var written: [UInt8] = []
        try binary.withUnsafeBytes { try StoredEventJSON.write($0, to: &written) }
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        // With the chain fields, after what the buffer already holds.
        let hash = [UInt8](0..<32), prevHash = [UInt8](repeating: 0xAB, count: 32)
        expected = Array("x".utf8)
        recorded.writeJSON(
            to: &expected,
            chain: (hash.map { String(format: "%02x", $0) }.joined(), prevHash.map { String(format: "%02x", $0) }.joined())
        )
        written = Array("x".utf8)
        try binary.withUnsafeBytes { raw in
            try hash.withUnsafeBytes { h in
                try prevHash.withUnsafeBytes { p in try StoredEventJSON.write(raw, chain: (h, p), to: &written) }
            }
        }
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
    }

    @Test(arguments: Samples.recorded)
    func storedBytesThatDoNotDecodeAreRefusedAndLeaveTheBuffer(_ recorded: RecordedEvent) {
        let binary = recorded.binaryEncoded
        for cut in [binary.count - 1, binary.count / 2, 30] where cut < binary.count {
            var written = Array("kept".utf8)
            #expect(throws: BinaryDecodingError.self) {
                try Array(binary[..<cut]).withUnsafeBytes { try StoredEventJSON.write($0, to: &written) }
            }
            #expect(written == Array("kept".utf8))
        }
        var written: [UInt8] = []
        #expect(throws: BinaryDecodingError.self) {
            try (binary + [0]).withUnsafeBytes { try StoredEventJSON.write($0, to: &written) }
        }
        #expect(written.isEmpty)
    }

    @Test func storedStringsThatAreNotUTF8AreRefused() throws {
        let recorded = try #require(Samples.recorded.first)
        var binary = recorded.binaryEncoded
        // The stream's first byte (after position and timestamp, and its one-byte length).
        binary[17] = 0xFF
        var written: [UInt8] = []
        #expect(throws: BinaryDecodingError.self) { try binary.withUnsafeBytes { try StoredEventJSON.write($0, to: &written) } }
        #expect(throws: BinaryDecodingError.self) { try RecordedEvent(decoding: binary) }
    }

    /// A recorded event with chain fields, the way `Encodable` would write it.
    private struct Chained: Encodable {
        let recorded: RecordedEvent
        let hash: String
        let prevHash: String
        enum CodingKeys: String, CodingKey { case hash, prevHash }
        func encode(to encoder: any Encoder) throws {
            try recorded.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(hash, forKey: .hash)
            try container.encode(prevHash, forKey: .prevHash)
        }
    }

    @Test func everyControlCharacterAndTheEscapedOnes() throws {
        var text = ""
        for value in 0..<0x20 { text.unicodeScalars.append(Unicode.Scalar(UInt8(value))) }
        text += "\"\\/\u{7F}\u{2028}\u{2029}é😀 e\u{301} \u{FEFF}"
        try expectSame(text)
        try expectSame([text, "", " "])
        try expectSame(["k\(text)": text])
    }

    @Test func keysSortByteWise() throws {
        try expectSame(["b": 1, "B": 2, "a10": 3, "a9": 4, "A": 5, "fooBar": 6, "fooa": 7, "_x": 8, "é": 9, "z": 10, "": 11])
    }

    @Test func numbersBooleansNullsAndNesting() throws {
        try expectSame([Int64.min, Int64.max, 0, -1])
        try expectSame([UInt64.max])
        try expectSame([1.5, 2.0, 0.1, -0.0, 1e-7, 123456.789])
        try expectSame([true, false])
        try expectSame([Optional<Int>.none, 1])
        try expectSame(["a": [["b": [1, 2]], [:]], "c": []])
        struct Shape: Encodable {
            var name: String
            var size: Int?
            var tags: [String]
            var inner: [String: Bool]
        }
        try expectSame(Shape(name: "x", size: nil, tags: ["a", "b"], inner: ["t": true]))
        try expectSame(Shape(name: "y", size: 3, tags: [], inner: [:]))
    }

    @Test func nonFiniteNumbersAreRefused() {
        #expect(throws: EncodingError.self) { try CompactJSONEncoder().encode([Double.nan]) }
        #expect(throws: EncodingError.self) { try CompactJSONEncoder().encode([Double.infinity]) }
    }
}

/// `JSONObjectWriter` writes, member by member, the text `JSONEncoder` writes for the same
/// members, so an answer built with it reads exactly like one built through `Encodable`.
@Suite struct JSONObjectWriterTests {
    private struct Inner: Encodable {
        var position: UInt64
        var type: String
    }

    private struct Sample: Encodable {
        var count: Int?
        var items: [Inner]
        var name: String?
        var ok: Bool
        var position: UInt64
    }

    private func written(_ sample: Sample) -> String {
        var object = JSONObjectWriter()
        object.integer("count", sample.count)
        object.objects("items", sample.items) { item, inner in
            item.integer("position", inner.position)
            item.string("type", inner.type)
        }
        object.string("name", sample.name)
        object.bool("ok", sample.ok)
        object.integer("position", sample.position)
        return String(decoding: object.finish(), as: UTF8.self)
    }

    private func encoded(_ sample: Sample) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(sample), as: UTF8.self)
    }

    @Test func membersNestedObjectsAndEscapesMatchJSONEncoder() throws {
        var text = ""
        for value in 0..<0x20 { text.unicodeScalars.append(Unicode.Scalar(UInt8(value))) }
        text += "\"\\/é😀\u{2028}"
        let samples = [
            Sample(count: -7, items: [Inner(position: 1, type: text), Inner(position: .max, type: "")], name: text, ok: true, position: 0),
            Sample(count: nil, items: [], name: nil, ok: false, position: 42),
        ]
        for sample in samples {
            #expect(written(sample) == (try encoded(sample)))
        }
    }

    @Test func theObjectFollowsItsPrefix() {
        var object = JSONObjectWriter(after: Array("[1,".utf8))
        object.bool("a", true)
        #expect(String(decoding: object.finish(), as: UTF8.self) == "[1,{\"a\":true}")
    }
}

extension JSONObjectWriterTests {
    @Test func integersAreWrittenAsJSONWritesThem() {
        let values: [Int64] = [0, 7, -7, 10, 99, -100, 1_234_567_890, .max, .min]
        for value in values {
            var bytes: [UInt8] = []
            JSONObjectWriter.writeInteger(value, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == String(value))
        }
        var bytes: [UInt8] = []
        JSONObjectWriter.writeInteger(UInt64.max, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "18446744073709551615")
    }
}
