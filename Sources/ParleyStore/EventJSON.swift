public import ParleyCore

/// JSON lines of stored events, as `schemas/envelope.schema.json` describes them
/// (the recorded event plus `hash` and `prevHash`).
public struct EventJSON: Sendable {
    private let encoder = CompactJSONEncoder()

    /// Creates an encoder producing compact lines with sorted keys.
    public init() {}

    /// One compact JSON object (no newline) for a stored event.
    public func line(_ stored: StoredEvent) throws -> String {
        try encoder.encode(Chained(stored: stored))
    }

    /// One compact JSON object (no newline) for a recorded event without chain fields.
    public func line(_ recorded: RecordedEvent) throws -> String {
        try encoder.encode(recorded)
    }

    private struct Chained: Encodable {
        let stored: StoredEvent
        enum CodingKeys: String, CodingKey { case hash, prevHash }

        func encode(to encoder: any Encoder) throws {
            try stored.recorded.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(stored.hash.hex, forKey: .hash)
            try container.encode(stored.prevHash.hex, forKey: .prevHash)
        }
    }
}
