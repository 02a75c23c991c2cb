import Foundation
import LMDB
#if canImport(Glibc)
import Glibc
#endif

/// A private directory under `$TMPDIR` (or `/tmp`) for work files, removed with its contents.
struct ScratchDirectory {
    /// The directory's path.
    let path: String

    /// Creates `parley-XXXXXX` with mode 0700.
    /// - Throws: ``StoreError/storage(_:)`` when it cannot be created.
    init() throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/parley-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw StoreError.system(SystemError("mkdtemp in \(base)"))
        }
        path = String(cString: made)
    }

    /// Deletes the directory and everything in it.
    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
