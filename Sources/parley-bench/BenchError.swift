import Glibc

/// Why a bench step failed; printed on stderr, and the command exits non-zero.
enum BenchError: Error, CustomStringConvertible {
    /// A system call failed with `errno`.
    case system(String, Int32)
    /// The daemon answered something the bench did not expect.
    case unexpected(String)
    /// Nothing happened in time.
    case timeout(String)

    var description: String {
        switch self {
        case .system(let call, let code): return "\(call) failed: \(String(cString: strerror(code)))"
        case .unexpected(let what): return what
        case .timeout(let what): return "timed out: \(what)"
        }
    }
}
