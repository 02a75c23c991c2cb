#if canImport(Glibc)
    public import Glibc
#endif

/// A failed system call (`mkdir`, `rename`, `fsync`, `open`, …): what was attempted and the
/// `errno` it set, with the system's sentence for it.
public struct SystemError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was attempted, e.g. `mkdir /var/lib/parley`.
    public let operation: String
    /// The `errno` value.
    public let code: Int32

    /// The failure of `operation`; `code` defaults to the calling thread's current `errno`,
    /// read before `operation` is built (building a string may allocate and so change `errno`).
    public init(_ operation: @autoclosure () -> String, code: Int32 = errno) {
        self.code = code
        self.operation = operation()
    }

    /// The system's sentence for the code, e.g. `No space left on device`.
    public var reason: String { Self.reason(code) }

    /// `operation: reason`.
    public var description: String { "\(operation): \(reason)" }

    /// The system's sentence for an `errno` value (the current one by default).
    public static func reason(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
}
