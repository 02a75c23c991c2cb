import Foundation
import ParleyCore

/// What the power-cut shim (`Sources/PowerCutShim/shim.c`) recorded of one daemon's run: for
/// each data file, the writes not yet durable when the daemon was killed, with the bytes each
/// overwrote, cut into page-sized pieces.
struct PowerCutJournal {
    /// One page-sized (or smaller) piece of a write that was not yet durable.
    struct Piece {
        /// The page it lies in.
        var page: UInt64
        /// Where the piece starts in the file.
        var offset: UInt64
        /// What the file held there before the write (zeros past the file's end then).
        var old: [UInt8]
    }

    /// One data file's writes since its last fsync.
    struct File {
        /// The file's size when it was last made durable (or opened).
        var durableSize: UInt64
        /// The pieces not yet durable, in the order they were written.
        var pending: [Piece] = []
    }

    /// LMDB's page size on this platform, the unit a power cut keeps or loses.
    static let pageSize: UInt64 = 4096

    /// The files by name (`log.mdb`, `projections.mdb`).
    private(set) var files: [String: File] = [:]
    /// Records read.
    private(set) var records = 0
    /// Whether the journal ended in a record cut short (the kill landed while it was written).
    private(set) var tornTail = false
    /// Whether a data file was mapped writable: writes through a map are not recorded, so the run proves nothing.
    private(set) var mappedWritable = false

    /// Reads the journal at `path`.
    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CrashTestFailure("cannot read the power-cut journal \(path): is the shim loaded?")
        }
        let bytes = [UInt8](data)
        var at = 0
        while at < bytes.count {
            guard let (record, next) = Self.record(in: bytes, at: at) else {
                tornTail = true
                break
            }
            apply(record)
            records += 1
            at = next
        }
    }

    private struct Record {
        var type: UInt8
        var file: String
        var length: Int
        var offset: UInt64
        var size: UInt64
        var body: ArraySlice<UInt8>
    }

    /// The record at `at` and where the next one starts, or nil when it is cut short or does not check.
    private static func record(in bytes: [UInt8], at: Int) -> (Record, Int)? {
        func integer(_ from: Int, _ count: Int) -> UInt64 {
            (0..<count).reduce(UInt64(0)) { $0 | UInt64(bytes[from + $1]) << (8 * UInt64($1)) }
        }
        let header = 28
        guard at + header <= bytes.count, bytes[at..<at + 4].elementsEqual("PCR1".utf8) else { return nil }
        let length = Int(integer(at + 8, 4))
        let end = at + header + length
        guard end + 4 <= bytes.count else { return nil }
        var hash: UInt32 = 2_166_136_261
        for byte in bytes[at..<end] { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        guard UInt64(hash) == integer(end, 4) else { return nil }
        let file = bytes[at + 5] == 1 ? "log.mdb" : "projections.mdb"
        let record = Record(
            type: bytes[at + 4], file: file, length: length, offset: integer(at + 12, 8), size: integer(at + 20, 8),
            body: bytes[(at + header)..<end]
        )
        return (record, end + 4)
    }

    private mutating func apply(_ record: Record) {
        switch record.type {
        case UInt8(ascii: "O"):
            if files[record.file] == nil { files[record.file] = File(durableSize: record.size) }
        case UInt8(ascii: "W"):
            var offset = record.offset
            var body = record.body
            while !body.isEmpty {
                let page = offset / Self.pageSize
                let count = min(body.count, Int((page + 1) * Self.pageSize - offset))
                files[record.file, default: File(durableSize: record.size)].pending.append(
                    Piece(page: page, offset: offset, old: Array(body.prefix(count))))
                body = body.dropFirst(count)
                offset += UInt64(count)
            }
        case UInt8(ascii: "S"):
            files[record.file] = File(durableSize: record.size)
        case UInt8(ascii: "P"):
            guard record.size > 0 else { return }
            let first = record.offset / Self.pageSize
            let last = (record.offset + record.size - 1) / Self.pageSize
            files[record.file]?.pending.removeAll { (first...last).contains($0.page) }
        case UInt8(ascii: "M"):
            mappedWritable = true
        default:
            break
        }
    }

    /// What a crash state changed, for the report.
    struct StateFigures {
        var pendingPieces = 0
        var revertedPieces = 0
        var truncatedFiles = 0
    }

    /// Turns the copy of the data directory at `directory` (the files as the killed daemon left
    /// them) into a state a power cut could leave: of each page's writes that were not durable,
    /// only the oldest `k` are kept, `k` drawn at random; a file that grew may lose its new length.
    func makeCrashState(in directory: String, using generator: inout SplitMix64) throws -> StateFigures {
        var figures = StateFigures()
        // Per state, how often a page keeps everything it was sent: from "nothing lost" to "all lost".
        let keepAll = Double(generator.next() % 1001) / 1000
        for (name, file) in files.sorted(by: { $0.key < $1.key }) {
            let path = directory + "/" + name
            let fd = open(path, O_RDWR)
            guard fd >= 0 else { throw CrashTestFailure("cannot open \(path) of the crash state") }
            defer { close(fd) }
            var byPage: [UInt64: [Int]] = [:]
            for (index, piece) in file.pending.enumerated() { byPage[piece.page, default: []].append(index) }
            figures.pendingPieces += file.pending.count
            var highestKept = file.durableSize
            for (page, indexes) in byPage.sorted(by: { $0.key < $1.key }) {
                let kept = Double(generator.next() % 1001) / 1000 < keepAll ? indexes.count : Int(generator.next() % UInt64(indexes.count))
                for index in indexes[kept...].reversed() {
                    let piece = file.pending[index]
                    let written = piece.old.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(piece.offset)) }
                    guard written == piece.old.count else { throw CrashTestFailure("cannot write \(path) of the crash state") }
                    figures.revertedPieces += 1
                }
                if kept > 0 { highestKept = max(highestKept, (page + 1) * Self.pageSize) }
            }
            var status = stat()
            guard fstat(fd, &status) == 0 else { throw CrashTestFailure("cannot stat \(path)") }
            let size = UInt64(status.st_size)
            // The file's new length is metadata that may not have reached the disk either.
            if size > file.durableSize, generator.next() % 2 == 0 {
                let length = min(size, highestKept)
                if length < size {
                    guard ftruncate(fd, off_t(length)) == 0 else { throw CrashTestFailure("cannot truncate \(path)") }
                    figures.truncatedFiles += 1
                }
            }
        }
        return figures
    }
}
