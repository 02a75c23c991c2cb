public import ParleyCore

/// JSON lines of stored events, as `schemas/envelope.schema.json` describes them
/// (the recorded event plus `hash` and `prevHash`).
public struct EventJSON: Sendable {
    /// Creates an encoder producing compact lines with sorted keys.
    public init() {}

    /// One compact JSON object (no newline) for a stored event.
    public func line(_ stored: StoredEvent) throws -> String {
        var bytes: [UInt8] = []
        append(stored, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One compact JSON object (no newline) for a recorded event without chain fields.
    public func line(_ recorded: RecordedEvent) throws -> String {
        var bytes: [UInt8] = []
        recorded.writeJSON(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends a stored event's JSON object (no newline) to `bytes`.
    public func append(_ stored: StoredEvent, to bytes: inout [UInt8]) {
        stored.recorded.writeJSON(to: &bytes, chain: (stored.hash.hex, stored.prevHash.hex))
    }
}
