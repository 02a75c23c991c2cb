import Foundation
import LMDB
import ParleyCore

/// The checks a writable open makes before serving, each bounded so that a cold start stays
/// flat in the log's size: the files cover the pages LMDB says they hold, and the log's tail
/// window plus every event catch-up will replay has gapless positions and an intact hash chain.
///
/// They are not a full audit: `parley audit verify` checks the whole log.
enum OpenChecks {
    /// Events at the end of the log whose chain is checked at every writable open.
    static let tailWindow: UInt64 = 1024

    /// Why the file at `path` is shorter than the pages its last commit references, or `nil`
    /// when it is whole. Checked before LMDB maps the file: it would fault (SIGBUS) reading past
    /// the end of a truncated file, and fail to map the size a damaged meta page may claim.
    static func truncation(path: String) -> String? {
        guard let needed = MetaPages.committedBytes(path: path) else { return nil }
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        let size = UInt64(status.st_size)
        guard size < needed else { return nil }
        return "\((path as NSString).lastPathComponent) is truncated, or its meta page damaged: \(size) bytes, but its last commit references \(needed) bytes"
    }

    /// Whether an LMDB error at open means the file is damaged or not an LMDB file
    /// (as opposed to missing, unreadable or full).
    static func isDamage(_ error: LMDBError) -> Bool {
        [.invalid, .versionMismatch, .corrupted, .pageNotFound, .incompatible].contains(error.code)
    }

    /// Checks the log's events after `after` up to `head`: gapless positions, each decodes, each
    /// links to the one before it and carries the hash of its own bytes, and the last is the head.
    /// - Throws: ``StoreError/corrupt(position:reason:)`` naming the first damaged position.
    static func verifyChain(of log: EventLog, after: UInt64, head: LogHead) throws {
        guard head.position > after else { return }
        var previous = ChainHash.zero
        if after > 0 {
            guard let before = try log.event(at: after) else {
                throw StoreError.corrupt(position: after, reason: "the event is missing")
            }
            previous = before.hash
        }
        var chain = TailChainCheck(after: after, previous: previous)
        try log.scan(after: after, until: head.position) { position, value in try chain.check(position: position, value: value) }
        try chain.finish(head: head)
    }

    /// Whether an error met reading or updating the projections means they are damaged and
    /// should be rebuilt (the log's own errors are ``StoreError`` with a position, never this).
    static func isProjectionDamage(_ error: any Error) -> Bool {
        switch error {
        case is BinaryDecodingError: true
        case let error as LMDBError: isDamage(error)
        case let error as StoreError:
            switch error {
            case .corrupt(let position, _): position == nil
            case .storage(let error): isDamage(error)
            default: false
            }
        default: false
        }
    }
}
