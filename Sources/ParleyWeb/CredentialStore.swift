import Foundation
import Glibc
import HummingbirdBcrypt

/// The gateway's sign-in credentials: one line per agent, `agentId:bcrypt-hash`, in a file of
/// its own (mode 0600), never in the event log (which is immutable, mirrored and read by
/// auditors). Passwords are never stored: bcrypt salts each hash and costs `2^cost` rounds.
public struct CredentialStore: Sendable {
    /// Why the credential file or a password was refused.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The credential file.
    public let path: String
    private var hashes: [String: String]

    /// The shortest and longest password accepted (bcrypt reads 72 bytes at most).
    public static let passwordBytes = 8...72
    /// bcrypt's cost when none is chosen: 2^12 rounds, about a quarter of a second per check.
    public static let defaultCost: UInt8 = 12

    /// Reads `path`; a missing file is an empty store. A file others may read is refused.
    public init(path: String) throws(Failure) {
        self.path = path
        hashes = [:]
        guard FileManager.default.fileExists(atPath: path) else { return }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Failure(description: "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw Failure(
                description:
                    "\(path) may be read by others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 \(path)"
            )
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Failure(description: "cannot read \(path) as UTF-8 text")
        }
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":"), line[line.index(after: colon)...].hasPrefix("$2") else {
                throw Failure(description: "\(path) line \(number + 1) is not agentId:bcrypt-hash")
            }
            hashes[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
    }

    /// The agents that may sign in, sorted.
    public var agents: [String] { hashes.keys.sorted() }

    /// Whether `password` is `agent`'s. An unknown agent costs the same time as a wrong password,
    /// so timing does not tell which agent ids exist.
    public func verify(agent: String, password: String) -> Bool {
        guard let hash = hashes[agent] else {
            _ = Bcrypt.verify(password, hash: Self.decoy)
            return false
        }
        return Bcrypt.verify(password, hash: hash)
    }

    /// Sets `agent`'s password and writes the file (a new file, renamed over the old, mode 0600).
    public mutating func setPassword(agent: String, password: String, cost: UInt8 = defaultCost) throws(Failure) {
        guard Self.isIdentifier(agent) else {
            throw Failure(description: "\"\(agent)\" is not an agent id (1 to 64 of A-Z a-z 0-9 . _ -)")
        }
        guard Self.passwordBytes.contains(password.utf8.count) else {
            throw Failure(
                description:
                    "a password must be \(Self.passwordBytes.lowerBound) to \(Self.passwordBytes.upperBound) bytes long"
            )
        }
        guard (4...31).contains(cost) else { throw Failure(description: "the bcrypt cost must be 4 to 31") }
        hashes[agent] = Bcrypt.hash(password, cost: cost)
        try write()
    }

    /// Removes `agent`; false when it had no password.
    public mutating func remove(agent: String) throws(Failure) -> Bool {
        guard hashes.removeValue(forKey: agent) != nil else { return false }
        try write()
        return true
    }

    private func write() throws(Failure) {
        let text = hashes.keys.sorted().map { "\($0):\(hashes[$0] ?? "")\n" }.joined()
        let temporary = path + ".new"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw Failure(description: "cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func isIdentifier(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy {
                $0.isASCIIAlphanumeric || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
            }
    }

    /// A hash of a password nobody knows, checked for unknown agents.
    private static let decoy = Bcrypt.hash(UUID().uuidString, cost: defaultCost)
}

extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
}
