import Foundation

/// A mobile-originated SMS as Kannel's `sms-service` passes it to the connector's `get-url`.
public struct KannelInbound: Sendable, Hashable {
    /// The customer's number, E.164.
    public var from: String
    /// The service number or DID it was sent to, E.164.
    public var to: String
    public var text: String
    /// Kannel's id of the message (`%I`), the carrier reference and idempotency key.
    public var id: String

    /// Why a callback's request is refused: a sentence for the HTTP answer and the log.
    public struct Refusal: Error, Sendable, Hashable {
        public var reason: String
    }

    /// A message with these fields.
    public init(from: String, to: String, text: String, id: String) {
        (self.from, self.to, self.text, self.id) = (from, to, text, id)
    }

    /// Reads the query items `from` (`%p`), `to` (`%P`), `text` (`%a`), `coding` (`%c`),
    /// `charset` (`%C`) and `id` (`%I`). A UCS-2 text comes as its UTF-16BE bytes.
    public init(items: [String: [UInt8]]) throws(Refusal) {
        func field(_ name: String) throws(Refusal) -> String {
            guard let bytes = items[name], !bytes.isEmpty else { throw Refusal(reason: "\(name) is missing") }
            return String(decoding: bytes, as: UTF8.self)
        }
        from = Self.e164(try field("from"))
        to = Self.e164(try field("to"))
        id = try field("id")
        let coding = items["coding"].map { String(decoding: $0, as: UTF8.self) } ?? "0"
        let charset = (items["charset"].map { String(decoding: $0, as: UTF8.self) } ?? "").uppercased()
        text = try Self.decode(items["text"] ?? [], coding: coding, charset: charset)
    }

    /// `+` and digits for a number Kannel gives in international form without `+`, or with
    /// the `00` prefix; other forms are passed on for the daemon to refuse.
    public static func e164(_ number: String) -> String {
        let trimmed = number.trimmingCharacters(in: .whitespaces)
        guard !trimmed.hasPrefix("+"), !trimmed.isEmpty, trimmed.allSatisfy(\.isASCIIDigit) else { return trimmed }
        return "+" + (trimmed.hasPrefix("00") ? String(trimmed.dropFirst(2)) : trimmed)
    }

    static func decode(_ bytes: [UInt8], coding: String, charset: String) throws(Refusal) -> String {
        if coding == "2" || charset.hasPrefix("UTF-16") || charset == "UCS-2" {
            guard bytes.count.isMultiple(of: 2) else {
                throw Refusal(reason: "a UCS-2 text has an odd number of bytes")
            }
            let units = stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
            guard let text = String(validating: units, as: UTF16.self) else {
                throw Refusal(reason: "the UCS-2 text is not valid UTF-16")
            }
            return text
        }
        if charset == "ISO-8859-1" || charset == "LATIN1" {
            return String(decoding: bytes.map { UInt16($0) }, as: UTF16.self)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Refusal(reason: "the text is not valid UTF-8 (charset \(charset.isEmpty ? "unset" : charset))")
        }
        return text
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
