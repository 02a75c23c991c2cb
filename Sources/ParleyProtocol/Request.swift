
/// A request's id: a string or an integer, echoed in the answer.
public enum RequestID: Sendable, Hashable {
    case integer(Int64)
    case string(String)

    /// The id as JSON.
    public var json: String {
        switch self {
        case .integer(let value): String(value)
        case .string(let value): JSONText.quote(value)
        }
    }
}

/// One request line, parsed: `{"jsonrpc":"2.0","id":…,"method":"…","params":{…}}`.
public struct Request: Sendable {
    /// The id to answer with.
    public var id: RequestID
    /// The method name.
    public var method: String
    /// The named parameters.
    public var params: Params

    /// Parses one line (without its newline).
    ///
    /// Checks, in order and before decoding: UTF-8 validity, the nesting depth, then JSON
    /// syntax, then the envelope. A failure returns the error and, when it could be read, the id.
    public static func parse(_ line: [UInt8], maxDepth: Int) -> Result<Request, RequestFailure> {
        guard String(validating: line, as: UTF8.self) != nil else { return .failure(RequestFailure(id: nil, error: .invalidUTF8)) }
        guard JSONText.depth(of: line) <= maxDepth else {
            return .failure(RequestFailure(id: nil, error: .nestingTooDeep(maxDepth)))
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(line, maxDepth: maxDepth)
        } catch {
            return .failure(RequestFailure(id: nil, error: .parseError(error.description)))
        }
        switch value {
        case .array: return .failure(RequestFailure(id: nil, error: .batchNotSupported))
        case .object(let object): return envelope(object)
        default: return .failure(RequestFailure(id: nil, error: .invalidRequest("a request is a JSON object, not \(value.typeName)")))
        }
    }

    private static func envelope(_ object: [String: JSONValue]) -> Result<Request, RequestFailure> {
        let id: RequestID?
        switch object["id"] {
        case .integer(let value): id = .integer(value)
        case .string(let value) where value.utf8.count <= 256: id = .string(value)
        case nil: return .failure(RequestFailure(id: nil, error: .invalidRequest("every request needs an \"id\" (Parley has no client notifications)")))
        default: return .failure(RequestFailure(id: nil, error: .invalidRequest("\"id\" must be an integer or a string of at most 256 bytes")))
        }
        if let version = object["jsonrpc"], version != .string("2.0") {
            return .failure(RequestFailure(id: id, error: .invalidRequest("\"jsonrpc\" must be \"2.0\"")))
        }
        guard case .string(let method) = object["method"] else {
            return .failure(RequestFailure(id: id, error: .invalidRequest("\"method\" must be a string")))
        }
        if object.keys.contains(where: { !isEnvelopeMember($0) }) {
            // The first unknown member in byte order, so the refusal is the same every time.
            let unknown = object.keys.filter { !isEnvelopeMember($0) }.sorted()
            if let key = unknown.first {
                return .failure(RequestFailure(id: id, error: .invalidRequest("unknown member \"\(key)\"")))
            }
        }
        let params: [String: JSONValue]
        switch object["params"] {
        case nil, .null: params = [:]
        case .object(let value): params = value
        case .some(let other):
            return .failure(RequestFailure(id: id, error: .wrongType("params", expected: "an object of named parameters", found: other.typeName)))
        }
        return .success(Request(id: id ?? .integer(0), method: method, params: Params(params)))
    }
}

/// Whether `key` is one of the members of a request object.
private func isEnvelopeMember(_ key: String) -> Bool {
    switch key {
    case "jsonrpc", "id", "method", "params": true
    default: false
    }
}

/// A line that could not be read as a request.
public struct RequestFailure: Error, Sendable {
    /// The id, when the line held one.
    public var id: RequestID?
    /// What is wrong.
    public var error: ProtocolError
}
