import LMDB
import Testing

@Suite("Environment")
struct EnvironmentTests {
    @Test func mapFullThenGrowAndRetry() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/data.mdb", options: .init(mapSize: 64 << 10, durable: false))
            let db = try env.openDatabase(nil)
            let value = [UInt8](repeating: 0xAB, count: 1024)
            var committed: UInt64 = 0
            var failure: LMDBError?
            while failure == nil && committed < 10_000 {
                do {
                    try env.write { txn in try txn.put(db, key: bigEndian(committed), value: value) }
                    committed += 1
                } catch let error as LMDBError {
                    failure = error
                }
            }
            let error = try #require(failure)
            #expect(error.isMapFull)
            #expect(error.code == .mapFull)
            #expect(error.description.contains("MDB_MAP_FULL"))
            #expect(committed > 0)

            try env.setMapSize(1 << 20)
            #expect(env.mapSize == 1 << 20)
            try env.write { txn in try txn.put(db, key: bigEndian(committed), value: value) }
            try env.read { txn throws in
                #expect(try txn.entryCount(db) == Int(committed) + 1)
                for i in UInt64(0)...committed {
                    #expect(try txn.get(db, bigEndian(i)).map { Array($0) } == value)
                }
            }
        }
    }

    @Test func readOnlyEnvironmentSeesDataAndRejectsWrites() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/data.mdb"
            do {
                let writer = try Environment(path: path)
                let db = try writer.openDatabase("ro", create: true)
                try writer.write { txn in try txn.put(db, key: [1], value: [42]) }
            }
            let reader = try Environment(path: path, options: .init(readOnly: true))
            #expect(reader.isReadOnly)
            #expect(reader.path == path)
            let db = try reader.openDatabase("ro", create: true)
            try reader.read { txn throws in
                #expect(try txn.get(db, [1]).map { Array($0) } == [42])
            }
            let error = #expect(throws: LMDBError.self) {
                try reader.write { txn in try txn.put(db, key: [2], value: [1]) }
            }
            #expect(error?.code == .accessDenied)
            let missing = #expect(throws: LMDBError.self) { try reader.openDatabase("absent") }
            #expect(missing?.code == .notFound)
        }
    }

    @Test func concurrentReadersSeeConsistentPrefixWhileMapGrows() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/data.mdb", options: .init(mapSize: 128 << 10, durable: false))
            let db = try env.openDatabase("events", create: true)
            let stop = Flag()
            let problems = Problems()
            let readers = (0..<4).map { _ in
                startThread {
                    var lastCount = 0
                    var reads = 0
                    while !stop.isSet || reads < 10 {
                        reads += 1
                        do {
                            let count = try env.read { txn in
                                let cursor = try txn.cursor(db)
                                var expected: UInt64 = 0
                                var entry = try cursor.first()
                                while let current = entry {
                                    let key = decodeBigEndian(current.key)
                                    if key != expected || current.value.count != 300 || current.value.first != UInt8(truncatingIfNeeded: key) {
                                        problems.add("gap or bad value at \(key), expected \(expected)")
                                        break
                                    }
                                    expected += 1
                                    entry = try cursor.next()
                                }
                                if try txn.entryCount(db) != Int(expected) { problems.add("count mismatch") }
                                return Int(expected)
                            }
                            if count < lastCount { problems.add("went backwards: \(count) < \(lastCount)") }
                            lastCount = count
                        } catch {
                            problems.add("read failed: \(error)")
                        }
                    }
                }
            }
            var grown = 0
            var i: UInt64 = 0
            while i < 1500 {
                let value = [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 300)
                do {
                    try env.write { txn in try txn.put(db, key: bigEndian(i), value: value, flags: .append) }
                    i += 1
                } catch let error as LMDBError where error.isMapFull {
                    try env.setMapSize(env.mapSize * 2)
                    grown += 1
                }
            }
            stop.set()
            readers.forEach { $0.wait() }
            #expect(grown > 0)
            #expect(problems.all.isEmpty, "\(problems.all.prefix(5))")
            #expect(try env.stat(db).entries == 1500)
        }
    }

    @Test func nestedWritesOnDifferentEnvironments() throws {
        try withTemporaryDirectory { dir in
            let a = try Environment(path: dir + "/a.mdb")
            let b = try Environment(path: dir + "/b.mdb")
            let dbA = try a.openDatabase(nil)
            let dbB = try b.openDatabase(nil)
            try a.write { txnA in
                try txnA.put(dbA, key: [1], value: [1])
                try b.write { txnB in try txnB.put(dbB, key: [2], value: [2]) }
                try b.read { txnB throws in #expect(try txnB.get(dbB, [2]) != nil) }
            }
            try a.read { txn throws in #expect(try txn.get(dbA, [1]).map { Array($0) } == [1]) }
        }
    }

    @Test(arguments: [false, true])
    func copyProducesOpenableFile(compact: Bool) throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/data.mdb")
            let db = try env.openDatabase("copy", create: true)
            try env.write { txn in
                for i in UInt64(0)..<200 { try txn.put(db, key: bigEndian(i), value: bigEndian(i * i)) }
                for i in UInt64(0)..<100 { try txn.delete(db, key: bigEndian(i * 2)) }
            }
            let target = dir + "/copy.mdb"
            try env.copy(to: target, compact: compact)
            let copy = try Environment(path: target, options: .init(readOnly: true))
            let copied = try copy.openDatabase("copy")
            #expect(try copy.stat(copied).entries == 100)
            try copy.read { txn throws in
                #expect(try txn.get(copied, bigEndian(7)).map(decodeBigEndian) == 49)
                #expect(try txn.get(copied, bigEndian(8)) == nil)
            }
        }
    }

    @Test func subdirectoryLayout() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir, options: .init(subdirectory: true))
            let db = try env.openDatabase(nil)
            try env.write { txn in try txn.put(db, key: [1], value: [1]) }
            #expect(try env.stat(db).entries == 1)
        }
    }

    @Test func readersInUseCountsOpenReadTransactions() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/data.mdb")
            #expect(env.readersInUse() == 0)
            let inside = try env.read { _ in env.readersInUse() }
            #expect(inside == 1)
            #expect(env.readersInUse() == 0)
            #expect(env.info().readersUsed >= 1, "the most ever used does not shrink")
        }
    }

    @Test func openingMissingDirectoryThrows() throws {
        try withTemporaryDirectory { dir in
            let error = #expect(throws: LMDBError.self) {
                _ = try Environment(path: dir + "/missing/data.mdb")
            }
            #expect(error?.code == .noSuchFile)
            #expect(error?.operation == "mdb_env_open")
            #expect(error?.description.contains("mdb_env_open") == true)
            #expect(error?.description.contains("No such file or directory") == true)
        }
    }

    @Test func invalidMapSizeThrows() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/data.mdb")
            let error = #expect(throws: LMDBError.self) { try env.setMapSize(0) }
            #expect(error?.code == .invalidArgument)
        }
    }
}
