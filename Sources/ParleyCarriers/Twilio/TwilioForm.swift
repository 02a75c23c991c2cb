/// An `application/x-www-form-urlencoded` body, as Twilio posts its webhooks and as its REST API
/// takes requests: `name=value` pairs in order, a name possibly repeated.
public enum TwilioForm {
    /// The pairs of `body`, decoded as UTF-8; nil when a pair is malformed (a `%` not followed
    /// by two hex digits).
    public static func decode(_ body: String) -> [(String, String)]? {
        var pairs: [(String, String)] = []
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentEncoding.decode(parts[0]),
                let value = PercentEncoding.decode(parts.count > 1 ? parts[1] : "")
            else { return nil }
            pairs.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        return pairs
    }

    /// `pairs` as a body.
    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { PercentEncoding.encode($0.0.utf8) + "=" + PercentEncoding.encode($0.1.utf8) }.joined(separator: "&")
    }
}
