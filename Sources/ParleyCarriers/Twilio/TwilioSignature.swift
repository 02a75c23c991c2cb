import Crypto
import Foundation

/// Twilio's request signature, `X-Twilio-Signature`: HMAC-SHA1 keyed with the account's auth
/// token over the full URL Twilio requested followed by each POST parameter's name and value
/// (names sorted, a name's values sorted), in base64.
///
/// Twilio signs some URLs with their default port and some without, so a check accepts the
/// URL as configured and the same URL with its default port added or removed, as Twilio's own
/// helper libraries do. The MAC is compared in constant time.
public struct TwilioSignature: Sendable {
    private let key: SymmetricKey

    /// A signer with the account's auth token.
    public init(authToken: String) {
        key = SymmetricKey(data: Array(authToken.utf8))
    }

    /// The signature of a request to `url` with `parameters` (its form body, in any order).
    public func signature(url: String, parameters: [(String, String)]) -> String {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Self.signed(url, parameters), using: key)
        return Data(mac).base64EncodedString()
    }

    /// Whether `signature` is the signature of a request to `url`, with or without its
    /// default port, carrying `parameters`.
    public func isValid(_ signature: String, url: String, parameters: [(String, String)]) -> Bool {
        guard let mac = Data(base64Encoded: signature), mac.count == Insecure.SHA1.byteCount else { return false }
        var valid = false
        for candidate in Self.portVariants(url) {
            // Every variant is checked, so the time taken does not say which one matched.
            valid =
                HMAC<Insecure.SHA1>.isValidAuthenticationCode(
                    mac, authenticating: Self.signed(candidate, parameters), using: key) || valid
        }
        return valid
    }

    /// The bytes signed: the URL, then each name with each of its distinct values, names and
    /// then values sorted by code point (as Twilio's helper libraries sort them).
    static func signed(_ url: String, _ parameters: [(String, String)]) -> [UInt8] {
        var values: [String: Set<String>] = [:]
        for (name, value) in parameters { values[name, default: []].insert(value) }
        var text = Array(url.utf8)
        for name in values.keys.sorted(by: Self.codePointOrder) {
            for value in (values[name] ?? []).sorted(by: Self.codePointOrder) {
                text += Array(name.utf8) + Array(value.utf8)
            }
        }
        return text
    }

    /// Ordering by Unicode scalars (Python's `sorted` on `str`), not Swift's `<`, which
    /// compares grapheme clusters.
    static func codePointOrder(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
    }

    /// `url`, and `url` with its default port removed when it has one, or added when it has
    /// none (443 for https, 80 for http).
    static func portVariants(_ url: String) -> [String] {
        guard let schemeEnd = url.range(of: "://") else { return [url] }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard let defaultPort = ["https": "443", "http": "80"][scheme] else { return [url] }
        let authorityStart = schemeEnd.upperBound
        let authorityEnd = url[authorityStart...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        let authority = url[authorityStart..<authorityEnd]
        let hostEnd = authority.lastIndex(of: "]") ?? authority.startIndex
        if let colon = authority[hostEnd...].lastIndex(of: ":") {
            guard authority[authority.index(after: colon)...] == defaultPort else { return [url] }
            return [url, String(url[..<colon]) + url[authorityEnd...]]
        }
        return [url, String(url[..<authorityEnd]) + ":" + defaultPort + url[authorityEnd...]]
    }
}
