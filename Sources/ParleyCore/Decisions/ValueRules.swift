/// The rules for single values that the ``Decider`` applies and the protocol layer checks
/// before any lookup, in one place so both refuse a value with the same sentence.
extension Rejection {
    /// An administrator-chosen id (agent, service, template, connector): ``Identifier``.
    public static func checkIdentifier(_ value: String, field: String) throws(Rejection) {
        guard Identifier.isValid(value) else {
            throw .invalidArgument(field: field, reason: "use 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'")
        }
    }

    /// A server-assigned id or reference, looked up as an LMDB key: 1 to `Limits.reference` bytes.
    public static func checkKey(_ value: String, field: String) throws(Rejection) {
        guard !value.isEmpty else { throw .invalidArgument(field: field, reason: "must not be empty") }
        try checkLength(value, field: field, maxBytes: Limits.reference)
    }

    /// At most `maxBytes` UTF-8 bytes (nil passes).
    public static func checkLength(_ value: String?, field: String, maxBytes: Int) throws(Rejection) {
        guard let value, value.utf8.count > maxBytes else { return }
        throw .invalidArgument(field: field, reason: "longer than \(maxBytes) bytes")
    }
}
