/// How an inbound text is matched against a number's opt-out keywords (``OptOutConfigured``):
/// its whole text, case and surrounding spaces ignored.
public enum OptOutKeywords {
    /// What an inbound text asks, when its whole text is a keyword.
    public enum Request: Sendable, Hashable {
        case stop, start, help
    }

    /// `text` as keywords are compared: without surrounding spaces, upper case; nil when it is
    /// too long to be a keyword (over 64 bytes).
    public static func normalised(_ text: String) -> String? {
        guard text.utf8.count <= 64 else { return nil }
        let trimmed = text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()
        return String(trimmed).uppercased()
    }

    /// The request `text` makes under `settings` and its keyword, when its whole text is one
    /// of their keywords; nil for any other text ("Stop calling me at work" is a message for
    /// the agent, not an opt-out).
    public static func request(in text: String, settings: OptOutConfigured = .builtIn) -> (
        request: Request, keyword: String
    )? {
        guard let keyword = normalised(text), !keyword.isEmpty else { return nil }
        if settings.stopKeywords.contains(keyword) { return (.stop, keyword) }
        if settings.startKeywords.contains(keyword) { return (.start, keyword) }
        if settings.helpKeywords.contains(keyword) { return (.help, keyword) }
        return nil
    }
}
