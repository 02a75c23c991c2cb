import Crypto
import Foundation

/// Signs the callback URLs a connector gives its carrier, so only the carrier that was given
/// a URL can report on a message, and a URL never holds the secret itself.
///
/// A signature is HMAC-SHA256 of the signed text, keyed with the connector's secret, as
/// lowercase hex; checks compare in constant time.
public struct CallbackSigner: Sendable {
    private let key: SymmetricKey

    /// A signer with `secret` (at least 16 bytes).
    public init?(secret: [UInt8]) {
        guard secret.count >= 16 else { return nil }
        key = SymmetricKey(data: secret)
    }

    /// The signature of `text`.
    public func signature(_ text: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `signature` (lowercase or uppercase hex) is `text`'s; the MAC is compared in
    /// constant time.
    public func verify(_ signature: [UInt8], for text: String) -> Bool {
        guard signature.count == 2 * SHA256.byteCount else { return false }
        var mac: [UInt8] = []
        mac.reserveCapacity(SHA256.byteCount)
        var index = 0
        while index < signature.count {
            guard let high = PercentEncoding.hexValue(signature[index]),
                let low = PercentEncoding.hexValue(signature[index + 1])
            else {
                return false
            }
            mac.append(high << 4 | low)
            index += 2
        }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Array(text.utf8), using: key)
    }
}
