import Glibc
import LMDB

/// The ceiling: appends of fixed-size values under 8-byte big-endian positions with `MDB_APPEND`,
/// `batch` values per durable commit (fsync), through the project's `LMDB` module with no domain
/// work; then one read transaction scanning every entry with a cursor (touching each value).
///
/// Every write transaction, begin to durable commit, is timed on its own: with `batch` 1 its p50
/// is the physical floor of one connection's acknowledgement latency (one event, one commit).
struct RawLMDB {
    var path: String
    var events: Int
    var batch: Int
    var valueSize: Int
    var scan: Bool

    func run() throws {
        unlink(path)
        unlink(path + "-lock")
        defer {
            unlink(path)
            unlink(path + "-lock")
        }
        let mapSize = max(64 << 20, events * (valueSize + 64) * 2)
        let env = try Environment(
            path: path, options: EnvironmentOptions(mapSize: mapSize, maxDatabases: 2, durable: true))
        let db = try env.openDatabase("events", create: true)
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: valueSize)
        var key = [UInt8](repeating: 0, count: 8)
        var position: UInt64 = 0
        var commitLatencies: [Int64] = []
        commitLatencies.reserveCapacity(events / batch + 1)
        let start = monotonicNanos()
        while position < UInt64(events) {
            let begin = monotonicNanos()
            try env.write { txn in
                for _ in 0..<batch where position < UInt64(events) {
                    position += 1
                    for i in 0..<8 { key[i] = UInt8(truncatingIfNeeded: position >> (56 - 8 * UInt64(i))) }
                    try txn.put(db, key: key, value: value, flags: .append)
                }
            }
            commitLatencies.append(Int64(monotonicNanos() - begin))
        }
        let appendSeconds = seconds(from: start, to: monotonicNanos())
        let commits = commitLatencies.count
        var members: [(String, JSONNumber)] = [
            ("batch", .int(batch)), ("events", .int(events)), ("valueBytes", .int(valueSize)),
            ("commits", .int(commits)), ("appendEventsPerSec", .double(Double(events) / appendSeconds)),
            ("commitsPerSec", .double(Double(commits) / appendSeconds)),
        ]
        members += LatencySummary(nanoseconds: commitLatencies).jsonMembers(prefix: "commit")
        if scan {
            let scanStart = monotonicNanos()
            let (count, checksum) = try env.read { txn -> (Int, Int) in
                let cursor = try txn.cursor(db)
                var count = 0
                var checksum = 0
                while let entry = try cursor.next() {
                    count += 1
                    checksum &+= Int(entry.value[entry.value.count - 1]) &+ entry.key.count
                }
                return (count, checksum)
            }
            let scanSeconds = seconds(from: scanStart, to: monotonicNanos())
            guard count == events, checksum != 0 else { throw BenchError.unexpected("scan read \(count) of \(events)") }
            members.append(("scanEventsPerSec", .double(Double(count) / scanSeconds)))
        }
        printResult(kind: "lmdb", members)
    }
}
