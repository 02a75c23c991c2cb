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

    /// Appends the JSON object of the event stored as `value` in `log.mdb` straight from its
    /// bytes, without decoding it into values: with `hash` and `prevHash` (as `log.read` shows
    /// events) or without them (as `events.event` carries them). On error `bytes` is unchanged.
    /// - Throws: ``StoreError/corrupt(position:reason:)`` naming `position` when it does not decode.
    public func append(
        storedValue value: UnsafeRawBufferPointer, at position: UInt64, chain: Bool, to bytes: inout [UInt8]
    ) throws(StoreError) {
        guard value.count > StoredEvent.headerSize, value[0] == StoredEvent.format else {
            throw StoreError.corrupt(position: position, reason: "not a stored event of format \(StoredEvent.format)")
        }
        let body = UnsafeRawBufferPointer(rebasing: value[StoredEvent.headerSize...])
        let hashes = (
            hash: UnsafeRawBufferPointer(rebasing: value[33..<65]), prevHash: UnsafeRawBufferPointer(rebasing: value[1..<33])
        )
        do {
            try StoredEventJSON.write(body, chain: chain ? hashes : nil, to: &bytes)
        } catch {
            throw StoreError.corrupt(position: position, reason: "undecodable: \(error)")
        }
    }
}
