/// The keywords a customer texts to stop, restart or ask about texts from a number, as
/// carriers and regulators (the CTIA's guidelines, for one) expect them.
public enum OptOutKeywords {
    /// What an inbound text asks, when its whole text is a keyword.
    public enum Request: Sendable, Hashable {
        case stop, start, help
    }

    /// Stop every text from the number.
    public static let stop: Set<String> = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]
    /// Start them again.
    public static let start: Set<String> = ["START", "YES", "UNSTOP"]
    /// Ask what the number is and how to stop it.
    public static let help: Set<String> = ["HELP"]

    /// The request `text` makes and its keyword (upper case), when its whole text, case and
    /// surrounding spaces ignored, is a keyword; nil for any other text ("Stop calling me at
    /// work" is a message for the agent, not an opt-out).
    public static func request(in text: String) -> (request: Request, keyword: String)? {
        guard text.utf8.count <= 64 else { return nil }
        let trimmed = text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()
        let keyword = String(trimmed).uppercased()
        if stop.contains(keyword) { return (.stop, keyword) }
        if start.contains(keyword) { return (.start, keyword) }
        if help.contains(keyword) { return (.help, keyword) }
        return nil
    }
}
