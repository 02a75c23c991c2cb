/// A handle to a database (the unnamed main database or a named one) inside an ``Environment``.
///
/// Obtained from ``Environment/openDatabase(_:create:)``; valid for the life of that environment
/// and only meaningful with transactions of that environment.
public struct Database: Hashable, Sendable {
    /// The `MDB_dbi` value.
    let dbi: UInt32
}
