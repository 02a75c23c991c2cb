/// What a text costs to send as SMS, and why.
///
/// Produced by ``SegmentCounter/count(_:)``. All fields are stored, so the
/// JSON encoding carries exactly `encoding`, `characters`, `units`,
/// `segments`, `remaining`, `nonGsm` and `display`.
public struct SegmentCount: Sendable, Hashable, Codable {
    /// The encoding the text must be sent in.
    public var encoding: SMSEncoding

    /// The characters as a person sees them: the number of grapheme clusters.
    public var characters: Int

    /// The units the text costs: septets for GSM-7, UTF-16 code units for UCS-2.
    public var units: Int

    /// The number of SMS parts the text is sent as; 0 for empty text.
    public var segments: Int

    /// The units still free in the current (last) segment.
    ///
    /// For empty text this is the whole single-message capacity (160).
    public var remaining: Int

    /// The characters that force UCS-2, in order of first appearance.
    ///
    /// Each entry is a distinct grapheme cluster that contains a Unicode scalar
    /// outside both GSM 03.38 tables. Empty for GSM-7 text.
    public var nonGsm: [String]

    /// A short summary for people: `N` for one message, `N (M messages)` otherwise.
    ///
    /// `N` is ``characters`` and `M` is ``segments``, e.g. `190 (2 messages)`.
    public var display: String

    /// Creates a count from its parts, deriving ``display``.
    ///
    /// - Parameters:
    ///   - encoding: The encoding the text is sent in.
    ///   - characters: The number of grapheme clusters.
    ///   - units: Septets (GSM-7) or UTF-16 code units (UCS-2).
    ///   - segments: The number of SMS parts.
    ///   - remaining: The units still free in the last part.
    ///   - nonGsm: The distinct characters that force UCS-2.
    public init(
        encoding: SMSEncoding,
        characters: Int,
        units: Int,
        segments: Int,
        remaining: Int,
        nonGsm: [String]
    ) {
        self.encoding = encoding
        self.characters = characters
        self.units = units
        self.segments = segments
        self.remaining = remaining
        self.nonGsm = nonGsm
        self.display = Self.display(characters: characters, segments: segments)
    }

    /// The display string for a number of characters sent in a number of segments.
    ///
    /// - Returns: `"N"` when `segments` is 0 or 1, otherwise `"N (M messages)"`.
    public static func display(characters: Int, segments: Int) -> String {
        segments > 1 ? "\(characters) (\(segments) messages)" : "\(characters)"
    }
}
