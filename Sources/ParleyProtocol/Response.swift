public import ParleyCore

/// Writes answers and notifications as compact one-line JSON (never a raw newline inside).
public struct ResponseWriter: Sendable {
    private let encoder = CompactJSONEncoder()

    /// Creates a writer.
    public init() {}

    /// The JSON of any encodable value (compact, keys sorted).
    public func json(_ value: some Encodable) throws -> String {
        try encoder.encode(value)
    }

    /// `{"jsonrpc":"2.0","id":…,"result":…}`
    public func result(id: RequestID, json result: String) -> String {
        "{\"jsonrpc\":\"2.0\",\"id\":\(id.json),\"result\":\(result)}"
    }

    /// `{"jsonrpc":"2.0","id":…,"result":{…}}` with the result object's members written by `members`.
    public func result(id: RequestID, _ members: (inout JSONObjectWriter) -> Void) -> [UInt8] {
        var prefix = Self.resultHead
        prefix.reserveCapacity(256)
        switch id {
        case .integer(let value): JSONObjectWriter.writeInteger(value, to: &prefix)
        case .string: prefix.append(contentsOf: id.json.utf8)
        }
        prefix.append(contentsOf: Self.resultMember)
        var object = JSONObjectWriter(continuing: &prefix)
        members(&object)
        var line = object.finish()
        line.append(UInt8(ascii: "}"))
        return line
    }

    private static let resultHead = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
    private static let resultMember = Array(#","result":"#.utf8)

    /// `{"jsonrpc":"2.0","id":…,"error":{"code":…,"message":…,"data":{"type":…,"retryable":…}}}`; id null when unknown.
    public func error(id: RequestID?, _ error: ProtocolError) -> String {
        var data = "{\"retryable\":\(error.retryable),\"type\":\(JSONText.quote(error.type))"
        if let field = error.field { data += ",\"field\":\(JSONText.quote(field))" }
        data += "}"
        return "{\"jsonrpc\":\"2.0\",\"id\":\(id?.json ?? "null"),\"error\":{\"code\":\(error.code),\"message\":\(JSONText.quote(error.message)),\"data\":\(data)}}"
    }

    /// `{"jsonrpc":"2.0","method":…,"params":…}`
    public func notification(method: String, json params: String) -> String {
        "{\"jsonrpc\":\"2.0\",\"method\":\(JSONText.quote(method)),\"params\":\(params)}"
    }
}
