/// Throws an ``LMDBError`` when a C return code is not `MDB_SUCCESS` (0).
///
/// - Parameters:
///   - rc: The value returned by an LMDB function.
///   - operation: The C function's name, recorded in the error.
/// - Throws: ``LMDBError`` carrying `rc` when it is non-zero.
@inline(__always)
func check(_ rc: Int32, _ operation: String) throws(LMDBError) {
    if rc != 0 { throw LMDBError(LMDBError.Code(rawValue: rc), operation: operation) }
}

extension LMDBError {
    /// The error thrown when a transaction or cursor is used after it has ended.
    static func ended(_ operation: String) -> LMDBError {
        LMDBError(.badTransaction, operation: operation)
    }
}
