/// A strict RFC 8259 parser from UTF-8 bytes straight to ``JSONValue``.
///
/// It exists because decoding a dynamic value through `JSONDecoder` means guessing each
/// value's type by trying them in turn, and every wrong guess throws: profiling the daemon
/// under load showed most of a request's time spent building and discarding those errors.
/// Here each value's type is read from its first byte, once.
///
/// Strict means: no comments, trailing commas, single quotes, leading zeros, `NaN` or
/// raw control characters in strings; lone UTF-16 surrogates in `\u` escapes and
/// duplicate member names are refused; integers without fraction or exponent that fit
/// in 64 bits stay exact, other numbers are finite `Double`s.
public struct JSONParser {
    /// Why the bytes are not one JSON value, and where.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong, for a person.
        public let reason: String
        /// The byte offset where it was noticed.
        public let offset: Int
        /// `reason at byte N`.
        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// Parses `bytes`, which must be valid UTF-8, as exactly one JSON value with optional
    /// surrounding whitespace.
    /// - Parameters:
    ///   - bytes: The text.
    ///   - maxDepth: The deepest nesting of arrays and objects accepted.
    /// - Throws: ``Failure``.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(Failure) -> JSONValue {
        var result: Result<JSONValue, Failure> = .failure(Failure(reason: "empty", offset: 0))
        bytes.withUnsafeBufferPointer { buffer in
            var parser = Cursor(bytes: buffer, maxDepth: maxDepth)
            result = Result { () throws(Failure) -> JSONValue in
                parser.skipWhitespace()
                let value = try parser.value(depth: 0)
                parser.skipWhitespace()
                guard parser.offset == buffer.count else { throw parser.failure("unexpected data after the JSON value") }
                return value
            }
        }
        return try result.get()
    }

    /// The reading position over the bytes.
    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        let maxDepth: Int
        var offset = 0

        init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        func failure(_ reason: String) -> Failure { Failure(reason: reason, offset: offset) }

        func unexpected() -> Failure {
            guard offset < bytes.count else { return failure("unexpected end of the line") }
            let byte = bytes[offset]
            if byte >= 0x20 && byte < 0x7F { return failure("unexpected character '\(Character(Unicode.Scalar(byte)))'") }
            return failure("unexpected byte 0x\(String(byte, radix: 16, uppercase: true))")
        }

        var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

        mutating func skipWhitespace() {
            while offset < bytes.count {
                switch bytes[offset] {
                case 0x20, 0x09, 0x0A, 0x0D: offset += 1
                default: return
                }
            }
        }

        mutating func expect(_ byte: UInt8) throws(Failure) {
            guard current == byte else { throw unexpected() }
            offset += 1
        }

        mutating func value(depth: Int) throws(Failure) -> JSONValue {
            guard let byte = current else { throw unexpected() }
            switch byte {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw unexpected()
            }
        }

        mutating func literal(_ word: StaticString) throws(Failure) {
            let count = word.utf8CodeUnitCount
            guard offset + count <= bytes.count,
                UnsafeBufferPointer(rebasing: bytes[offset..<offset + count]).elementsEqual(
                    UnsafeBufferPointer(start: word.utf8Start, count: count))
            else { throw failure("unexpected characters (expected \(word))") }
            offset += count
        }

        mutating func object(depth: Int) throws(Failure) -> JSONValue {
            guard depth <= maxDepth else { throw failure("nesting deeper than \(maxDepth)") }
            offset += 1
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                offset += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw unexpected() }
                let start = offset
                let name = try string()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                skipWhitespace()
                let member = try value(depth: depth)
                guard members.updateValue(member, forKey: name) == nil else {
                    throw Failure(reason: "duplicate member \(JSONText.quote(name))", offset: start)
                }
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "}"): offset += 1; return .object(members)
                default: throw unexpected()
                }
            }
        }

        mutating func array(depth: Int) throws(Failure) -> JSONValue {
            guard depth <= maxDepth else { throw failure("nesting deeper than \(maxDepth)") }
            offset += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                offset += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "]"): offset += 1; return .array(elements)
                default: throw unexpected()
                }
            }
        }

        /// A string literal; the cursor is on its opening quote.
        mutating func string() throws(Failure) -> String {
            offset += 1
            let start = offset
            // Fast path: no escapes.
            while offset < bytes.count {
                let byte = bytes[offset]
                if byte == UInt8(ascii: "\"") {
                    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
                    offset += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw failure("raw control character 0x\(String(byte, radix: 16, uppercase: true)) in a string (escape it)") }
                offset += 1
            }
            var utf8 = Array(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
            while offset < bytes.count {
                let byte = bytes[offset]
                switch byte {
                case UInt8(ascii: "\""):
                    offset += 1
                    return String(decoding: utf8, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    offset += 1
                    try escape(into: &utf8)
                case 0..<0x20:
                    throw failure("raw control character 0x\(String(byte, radix: 16, uppercase: true)) in a string (escape it)")
                default:
                    utf8.append(byte)
                    offset += 1
                }
            }
            throw failure("unterminated string")
        }

        /// One escape; the cursor is just after its backslash.
        mutating func escape(into utf8: inout [UInt8]) throws(Failure) {
            guard let byte = current else { throw failure("unterminated string") }
            offset += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                let escapeStart = offset - 2
                let unit = try hex4()
                var scalarValue = UInt32(unit)
                if (0xD800...0xDBFF).contains(unit) {
                    guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                        throw Failure(reason: "lone UTF-16 high surrogate \\u\(String(unit, radix: 16)) in a string", offset: escapeStart)
                    }
                    offset += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw Failure(reason: "UTF-16 high surrogate \\u\(String(unit, radix: 16)) not followed by a low surrogate", offset: escapeStart)
                    }
                    scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(unit) {
                    throw Failure(reason: "lone UTF-16 low surrogate \\u\(String(unit, radix: 16)) in a string", offset: escapeStart)
                }
                guard let scalar = Unicode.Scalar(scalarValue) else { throw failure("invalid \\u escape") }
                utf8.append(contentsOf: String(scalar).utf8)
            default:
                offset -= 1
                throw failure("invalid escape \\\(Character(Unicode.Scalar(byte)))")
            }
        }

        mutating func hex4() throws(Failure) -> UInt16 {
            guard offset + 4 <= bytes.count else { throw failure("unterminated \\u escape") }
            var unit: UInt16 = 0
            for _ in 0..<4 {
                let byte = bytes[offset]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw failure("invalid hex digit in a \\u escape")
                }
                unit = unit << 4 | UInt16(digit)
                offset += 1
            }
            return unit
        }

        /// A number; the cursor is on its `-` or first digit.
        mutating func number() throws(Failure) -> JSONValue {
            let start = offset
            if current == UInt8(ascii: "-") { offset += 1 }
            guard let first = current, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { throw unexpected() }
            offset += 1
            if first == UInt8(ascii: "0"), let next = current, next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9") {
                throw failure("leading zero in a number")
            }
            skipDigits()
            var integral = true
            if current == UInt8(ascii: ".") {
                integral = false
                offset += 1
                guard skipDigits() > 0 else { throw failure("digits expected after the decimal point") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                integral = false
                offset += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
                guard skipDigits() > 0 else { throw failure("digits expected in the exponent") }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
            if integral, let exact = Int64(text) { return .integer(exact) }
            guard let number = Double(text), number.isFinite else {
                throw Failure(reason: "number \(text.prefix(40)) is out of range", offset: start)
            }
            return .double(number)
        }

        @discardableResult
        mutating func skipDigits() -> Int {
            let start = offset
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { offset += 1 }
            return offset - start
        }
    }
}
