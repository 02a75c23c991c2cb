import ParleyProtocol
import Testing

/// The request parser: strict JSON straight to `JSONValue`.
@Suite struct JSONParserTests {
    private func parse(_ text: String, maxDepth: Int = 64) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8), maxDepth: maxDepth)
    }

    private func failure(_ text: String, maxDepth: Int = 64) -> JSONParser.Failure? {
        do {
            _ = try JSONParser.parse(Array(text.utf8), maxDepth: maxDepth)
            return nil
        } catch {
            return error
        }
    }

    @Test func valuesOfEveryType() throws {
        let value = try parse(#" {"a":[1,-2,3.5,-0.25e2,true,false,null,"x"],"b":{},"c":[]} "#)
        #expect(value == .object([
            "a": .array([.integer(1), .integer(-2), .double(3.5), .double(-25), .bool(true), .bool(false), .null, .string("x")]),
            "b": .object([:]), "c": .array([]),
        ]))
    }

    @Test func integersStayExactToSixtyFourBits() throws {
        #expect(try parse("9223372036854775807") == .integer(.max))
        #expect(try parse("-9223372036854775808") == .integer(.min))
        #expect(try parse("9007199254740993") == .integer(9_007_199_254_740_993))
        // Past 64 bits an integer is a (finite) double; past Double it is refused.
        #expect(try parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(failure("1e400")?.reason.contains("out of range") == true)
        #expect(failure("-1e400")?.reason.contains("out of range") == true)
    }

    @Test func escapesAndSurrogatePairs() throws {
        #expect(try parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(try parse(#""\u00e9\u20AC\ud83d\ude00""#) == .string("é€😀"))
        #expect(try parse(#""\u0000""#) == .string("\u{0}"))
        // Text without escapes is taken byte for byte: no normalisation (Swift's == would not tell).
        let decomposed = "e\u{301}"
        guard case .string(let parsed) = try parse("\"\(decomposed)\"") else {
            Issue.record("not a string")
            return
        }
        #expect(Array(parsed.utf8) == Array(decomposed.utf8))
    }

    @Test(arguments: [
        (#""\ud800""#, "lone UTF-16 high surrogate"),
        (#""\ud800x""#, "lone UTF-16 high surrogate"),
        (#""\udc00""#, "lone UTF-16 low surrogate"),
        (#""\ud800\u0041""#, "not followed by a low surrogate"),
        (#""\udc00\ud800""#, "lone UTF-16 low surrogate"),
        (#""\x""#, "invalid escape"),
        (#""\u12G4""#, "invalid hex digit"),
        (#""\u12"#, "unterminated"),
        (#""abc"#, "unterminated string"),
        ("\"a\u{1}b\"", "raw control character 0x1"),
        ("\"a\tb\"", "raw control character 0x9"),
        ("01", "leading zero"),
        ("-", "unexpected end"),
        ("1.", "digits expected after the decimal point"),
        ("1e", "digits expected in the exponent"),
        (".5", "unexpected character '.'"),
        ("[1,]", "unexpected character ']'"),
        (#"{"a":1,}"#, "unexpected character '}'"),
        (#"{'a':1}"#, "unexpected character '''"),
        (#"{"a" 1}"#, "unexpected character '1'"),
        (#"{"a":1,"a":2}"#, "duplicate member \"a\""),
        ("NaN", "unexpected character 'N'"),
        ("tru", "expected true"),
        ("nul", "expected null"),
        ("{} x", "unexpected data after the JSON value"),
        ("", "unexpected end"),
        ("   ", "unexpected end"),
        ("// c\n1", "unexpected character '/'"),
    ])
    func refusals(_ text: String, _ reason: String) {
        let found = failure(text)
        #expect(found?.reason.contains(reason) == true, "\(text.debugDescription): \(String(describing: found))")
    }

    @Test func nestingIsBounded() throws {
        let deep = String(repeating: "[", count: 5) + String(repeating: "]", count: 5)
        #expect(try parse(deep, maxDepth: 5) == .array([.array([.array([.array([.array([])])])])]))
        #expect(failure(deep, maxDepth: 4)?.reason.contains("nesting deeper than 4") == true)
        let objects = String(repeating: #"{"a":"#, count: 3) + "1" + String(repeating: "}", count: 3)
        #expect(failure(objects, maxDepth: 2)?.reason.contains("nesting deeper than 2") == true)
    }

    @Test func offsetsPointAtTheTrouble() {
        #expect(failure(#"{"id":1,"x":tru}"#)?.offset == 12)
        #expect(failure("[1,2,x]")?.offset == 5)
    }
}
