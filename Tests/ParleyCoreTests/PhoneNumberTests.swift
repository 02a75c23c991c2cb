import ParleyCore
import Testing

@Suite("Phone numbers and identifiers")
struct PhoneNumberTests {
    static let valid = [
        "+14155550100",
        "+12",  // shortest: two digits
        "+442071838750",
        "+861012345678",
        "+999999999999999",  // 15 digits, the maximum
        "+100000000000000",
    ]

    static let invalid = [
        "",
        "+",
        "+1",  // one digit
        "14155550100",  // no plus
        "++14155550100",
        "+04155550100",  // country code starting with 0
        "+0",
        "+1234567890123456",  // 16 digits
        "+1 415 555 0100",
        "+1-415-555-0100",
        "+1(415)5550100",
        "+1415555010a",
        " +14155550100",
        "+14155550100 ",
        "+١٤١٥٥٥٥٠١٠٠",  // Arabic-Indic digits are not ASCII digits
        "+１４１５",  // full-width digits
        "+14155550100\n",
        "tel:+14155550100",
    ]

    @Test(arguments: valid)
    func validNumbers(_ number: String) {
        #expect(PhoneNumber.isValid(number))
    }

    @Test(arguments: invalid)
    func invalidNumbers(_ number: String) {
        #expect(!PhoneNumber.isValid(number))
    }

    @Test(arguments: ["a", "A-z_0.9", String(repeating: "x", count: 64), "agent.1"])
    func validIdentifiers(_ id: String) {
        #expect(Identifier.isValid(id))
    }

    @Test(arguments: ["", " ", "a b", "a/b", "é", "a:b", String(repeating: "x", count: 65), "a\0"])
    func invalidIdentifiers(_ id: String) {
        #expect(!Identifier.isValid(id))
    }
}
