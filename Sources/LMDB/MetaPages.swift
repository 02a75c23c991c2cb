#if canImport(Glibc)
import Glibc
#endif

/// The check of an existing data file's two meta pages made before `mdb_env_open` reads them.
///
/// `mdb_env_open` checks each meta page's flags, magic and version, but trusts its page size:
/// a meta page whose page size is zero (a page torn or zeroed, a flipped byte) makes it divide
/// by zero (SIGFPE), and one that is not a power of two makes every later page offset wrong.
/// This reads both meta pages as LMDB lays them out on 64-bit Linux (liblmdb 0.9) and refuses
/// such a file with `MDB_INVALID` instead.
public enum MetaPages {
    /// Where the fields lie in a meta page: a 16-byte page header, then `MDB_meta`.
    private static let flagsOffset = 10
    private static let magicOffset = 16
    private static let versionOffset = 20
    /// `mm_dbs[0].md_pad`, which holds the page size.
    private static let pageSizeOffset = 40
    private static let metaFlag: UInt16 = 0x08
    private static let magic: UInt32 = 0xBEEF_C0DE
    private static let dataVersion: UInt32 = 1
    /// `mm_last_pg` and `mm_txnid`.
    private static let lastPageOffset = 136
    private static let transactionOffset = 144
    /// LMDB's smallest and largest page sizes.
    private static let pageSizes: ClosedRange<UInt32> = 256...0x10000

    /// Checks the meta pages of the data file at `path`, if it exists and holds any bytes.
    /// - Throws: ``LMDBError`` `.invalid` naming the field when a meta page's page size is unusable.
    static func check(path: String) throws(LMDBError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }  // missing or unreadable: mdb_env_open says which
        defer { close(fd) }
        // A file too short or a page that is no meta page: mdb_env_open refuses it itself.
        guard let size = try pageSize(of: try read(fd, at: 0), which: 0),
            let second = try pageSize(of: try read(fd, at: off_t(size)), which: 1)
        else { return }
        guard second == size else {
            throw LMDBError(.invalid, operation: "meta page check (meta page 1 says page size \(second), meta page 0 \(size))")
        }
    }

    /// The bytes the newest commit references, `(mm_last_pg + 1) × page size` of the meta page
    /// with the greater transaction id (the one `mdb_env_open` uses), read before LMDB maps the
    /// file: a file shorter than that is truncated, and LMDB would fault reading past its end
    /// (or fail to map a size a damaged meta page made absurd). `nil` when there is no file or
    /// no meta page to read (`mdb_env_open` then says why).
    public static func committedBytes(path: String) -> UInt64? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let first = try? read(fd, at: 0), let size = try? pageSize(of: first, which: 0),
            let second = try? read(fd, at: off_t(size)), second.count >= transactionOffset + 8
        else { return nil }
        func integer(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
            (0..<8).reduce(UInt64.zero) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
        }
        let newest = integer(second, transactionOffset) > integer(first, transactionOffset) ? second : first
        let (pages, overflow) = integer(newest, lastPageOffset).addingReportingOverflow(1)
        let (bytes, tooLarge) = pages.multipliedReportingOverflow(by: UInt64(size))
        return overflow || tooLarge ? .max : bytes
    }

    /// The page size a meta page records, or `nil` when the bytes are no meta page (or too few).
    private static func pageSize(of bytes: [UInt8], which: Int) throws(LMDBError) -> UInt32? {
        guard bytes.count >= transactionOffset + 8 else { return nil }
        func integer<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            (0..<MemoryLayout<T>.size).reduce(T.zero) { $0 | T(bytes[offset + $1]) << (8 * $1) }
        }
        guard integer(flagsOffset, UInt16.self) & metaFlag != 0, integer(magicOffset, UInt32.self) == magic,
            integer(versionOffset, UInt32.self) == dataVersion
        else { return nil }
        let size = integer(pageSizeOffset, UInt32.self)
        guard pageSizes.contains(size), size.nonzeroBitCount == 1 else {
            throw LMDBError(.invalid, operation: "meta page check (meta page \(which) says page size \(size))")
        }
        return size
    }

    /// Up to one meta page's leading bytes at `offset` (fewer at the end of the file).
    private static func read(_ fd: Int32, at offset: off_t) throws(LMDBError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: transactionOffset + 8)
        var got = 0
        while got < bytes.count {
            let n = bytes[got...].withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset + off_t(got)) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw LMDBError(LMDBError.Code(rawValue: errno), operation: "pread of a meta page") }
            if n == 0 { break }
            got += n
        }
        return Array(bytes.prefix(got))
    }
}
