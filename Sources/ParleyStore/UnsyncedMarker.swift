#if canImport(Glibc)
    import Glibc
#endif

/// `projections.unsynced`: the projections are being committed without fsync, since the boot
/// it names.
///
/// Projections commit without fsync because they are derived. A killed daemon leaves its
/// writes in the kernel's page cache, which still reaches the disk, so catching up from the
/// checkpoint is enough. A power cut or a kernel crash is different: `projections.mdb` may
/// keep some pages of its newest commits and not others, a file LMDB could read as anything.
/// So a writable ``Engine`` writes this marker durably, with the kernel's boot id, before its
/// projections commit, and ``Engine/flush()`` removes it after forcing them to disk. A marker
/// left by another boot means the system stopped while unsynced commits were in flight: the
/// daemon rebuilds the projections from the log, and the read-only tools do not trust them.
public enum UnsyncedMarker {
    /// The marker's name inside the data directory.
    public static let fileName = "projections.unsynced"

    /// What the marker of a data directory says.
    public enum State: Sendable, Equatable {
        /// No marker: the projections were last forced to disk (or never written).
        case clean
        /// Written during this boot: at most a process stopped, and the page cache holds its writes.
        case thisBoot
        /// Written during another boot, or the boot cannot be told: the projections may be torn.
        case otherBoot(String)
    }

    /// The kernel's id of this boot, or nil when it cannot be read.
    public static func bootID() -> String? {
        let fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let id = String(decoding: bytes[..<count], as: UTF8.self).trimmingWhitespace
        return id.isEmpty ? nil : id
    }

    /// The state of `directory`'s marker.
    public static func state(of directory: DataDirectory) -> State {
        let path = directory.file(fileName)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno == ENOENT ? .clean : .otherBoot("unreadable") }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        let stored = count > 0 ? String(decoding: bytes[..<count], as: UTF8.self).trimmingWhitespace : ""
        if let current = bootID(), stored == current { return .thisBoot }
        return .otherBoot(stored.isEmpty ? "unknown" : stored)
    }

    /// Why the read-only tools must not trust `directory`'s projections, or nil when they may.
    public static func distrust(of directory: DataDirectory) -> String? {
        guard case .otherBoot(let boot) = state(of: directory) else { return nil }
        return "the projections were being written without fsync when the system stopped (boot \(boot)): "
            + "they may be torn; parleyd rebuilds them from the log at its next start"
    }

    /// Writes the marker for this boot and makes it durable (file and directory).
    static func set(in directory: DataDirectory) throws(StoreError) {
        let path = directory.file(fileName)
        let text = Array(((bootID() ?? "unknown") + "\n").utf8)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw StoreError.system(SystemError("open \(path)")) }
        defer { close(fd) }
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == text.count else { throw StoreError.system(SystemError("write \(path)", code: written < 0 ? errno : EIO)) }
        guard fsync(fd) == 0 else { throw StoreError.system(SystemError("fsync \(path)")) }
        try DurableFiles.sync(directory.path)
    }

    /// Removes the marker once the projections are forced to disk.
    static func clear(in directory: DataDirectory) throws(StoreError) {
        let path = directory.file(fileName)
        guard unlink(path) == 0 || errno == ENOENT else { throw StoreError.system(SystemError("unlink \(path)")) }
    }
}

/// fsync of a path: a finished file, or the directory that names it.
enum DurableFiles {
    static func sync(_ path: String) throws(StoreError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.system(SystemError("open \(path)")) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StoreError.system(SystemError("fsync \(path)")) }
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        var scalars = Substring(self)
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        return String(scalars)
    }
}
