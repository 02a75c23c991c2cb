import LMDB
import Testing

@Suite("Basic operations")
struct BasicTests {
    @Test func putGetDeleteRoundTrip() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/data.mdb")
            let db = try env.openDatabase("items", create: true)
            try env.write { txn throws in
                try txn.put(db, key: [1, 2, 3], value: Array("hello".utf8))
                try txn.put(db, key: [4], value: [])
            }
            try env.read { txn throws in
                #expect(try txn.get(db, [1, 2, 3]).map { Array($0) } == Array("hello".utf8))
                #expect(try txn.get(db, [4]).map { Array($0) } == [])
                #expect(try txn.get(db, [9, 9]) == nil)
                #expect(try txn.entryCount(db) == 2)
            }
            let deleted = try env.write { txn throws in
                (try txn.delete(db, key: [1, 2, 3]), try txn.delete(db, key: [1, 2, 3]))
            }
            #expect(deleted == (true, false))
            try env.read { txn throws in
                #expect(try txn.get(db, [1, 2, 3]) == nil)
            }
            try env.write { txn throws in try txn.clear(db) }
            #expect(try env.stat(db).entries == 0)
        }
    }

    @Test func writeCommitsOnReturnAndRollsBackOnThrow() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/data.mdb")
            let db = try env.openDatabase(nil)
            let returned = try env.write { txn throws in
                try txn.put(db, key: [1], value: [10])
                return 42
            }
            #expect(returned == 42)
            #expect(throws: Rollback()) {
                try env.write { txn throws in
                    try txn.put(db, key: [2], value: [20])
                    try txn.put(db, key: [1], value: [11])
                    #expect(try txn.get(db, [2]).map { Array($0) } == [20])
                    throw Rollback()
                }
            }
            try env.read { txn throws in
                #expect(try txn.get(db, [1]).map { Array($0) } == [10])
                #expect(try txn.get(db, [2]) == nil)
            }
        }
    }

    @Test("a held write transaction is invisible to readers until committed, and ending it frees the map for resizing")
    func heldWriteTransaction() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/data.mdb")
            let db = try env.openDatabase(nil)
            let held = try env.beginWrite()
            try held.put(db, key: [1], value: [10])
            try held.put(db, key: [2], value: [20])
            #expect(try env.read { try $0.get(db, [1]) } == nil, "readers see the last commit")
            try held.commit()
            #expect(try env.read { try $0.get(db, [2]).map { Array($0) } } == [20])
            #expect(throws: LMDBError.self) { try held.put(db, key: [3], value: [30]) }
            let dropped = try env.beginWrite()
            try dropped.put(db, key: [1], value: [11])
            dropped.abort()
            #expect(try env.read { try $0.get(db, [1]).map { Array($0) } } == [10])
            // Both ended, so nothing holds the environment: resizing does not wait.
            try env.setMapSize(env.mapSize * 2)
            try env.write { try $0.put(db, key: [4], value: [40]) }
        }
    }

    @Test func noOverwriteReportsKeyExists() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/data.mdb")
            let db = try env.openDatabase(nil)
            try env.write { txn throws in try txn.put(db, key: [1], value: [1]) }
            let error = #expect(throws: LMDBError.self) {
                try env.write { txn throws in try txn.put(db, key: [1], value: [2], flags: .noOverwrite) }
            }
            #expect(error?.code == .keyExists)
            #expect(error?.operation == "mdb_put")
        }
    }

    @Test func appendInOrderAndOutOfOrder() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/data.mdb")
            let db = try env.openDatabase("log", create: true)
            try env.write { txn throws in
                for i in UInt64(0)..<1000 {
                    try txn.put(db, key: bigEndian(i), value: bigEndian(i * 3), flags: .append)
                }
            }
            #expect(try env.stat(db).entries == 1000)
            let error = #expect(throws: LMDBError.self) {
                try env.write { txn throws in try txn.put(db, key: bigEndian(500), value: [0], flags: .append) }
            }
            #expect(error?.code == .keyExists)
            try env.read { txn throws in
                let value = try #require(try txn.get(db, bigEndian(500)))
                #expect(decodeBigEndian(value) == 1500)
            }
        }
    }

    @Test func cursorMovesInKeyOrder() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/data.mdb")
            let db = try env.openDatabase("c", create: true)
            try env.read { txn throws in
                let cursor = try txn.cursor(db)
                #expect(try cursor.first() == nil)
                #expect(try cursor.last() == nil)
            }
            try env.write { txn throws in
                for i: UInt64 in [50, 10, 40, 20, 30] {
                    try txn.put(db, key: bigEndian(i), value: bigEndian(i + 1))
                }
            }
            try env.read { txn throws in
                let cursor = try txn.cursor(db)
                var forward: [UInt64] = []
                var entry = try cursor.first()
                while let current = entry {
                    forward.append(decodeBigEndian(current.key))
                    #expect(decodeBigEndian(current.value) == decodeBigEndian(current.key) + 1)
                    entry = try cursor.next()
                }
                #expect(forward == [10, 20, 30, 40, 50])

                var backward: [UInt64] = []
                entry = try cursor.last()
                while let current = entry {
                    backward.append(decodeBigEndian(current.key))
                    entry = try cursor.previous()
                }
                #expect(backward == [50, 40, 30, 20, 10])

                #expect(try cursor.seek(atOrAfter: bigEndian(25)).map { decodeBigEndian($0.key) } == 30)
                #expect(try cursor.seek(atOrAfter: bigEndian(30)).map { decodeBigEndian($0.key) } == 30)
                #expect(try cursor.next().map { decodeBigEndian($0.key) } == 40)
                #expect(try cursor.seek(atOrAfter: bigEndian(51)) == nil)

                // A second cursor on the same transaction is independent.
                let other = try txn.cursor(db)
                #expect(try other.last().map { decodeBigEndian($0.key) } == 50)
            }
        }
    }

    @Test func cursorInWriteTransactionAndAfterEnd() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/data.mdb")
            let db = try env.openDatabase(nil)
            var escaped: Cursor?
            try env.write { txn throws in
                try txn.put(db, key: [1], value: [1])
                let cursor = try txn.cursor(db)
                #expect(try cursor.first().map { Array($0.key) } == [1])
                escaped = cursor
            }
            let error = #expect(throws: LMDBError.self) { try escaped?.next() }
            #expect(error?.code == .badTransaction)
        }
    }

    @Test func statAndInfo() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/data.mdb", options: .init(mapSize: 8 << 20))
            let db = try env.openDatabase("s", create: true)
            try env.write { txn throws in
                for i in UInt64(0)..<100 { try txn.put(db, key: bigEndian(i), value: [UInt8](repeating: 7, count: 100)) }
            }
            let stat = try env.stat(db)
            #expect(stat.entries == 100)
            #expect(stat.depth >= 1)
            #expect(stat.leafPages >= 1)
            #expect(stat.pageSize > 0)
            let info = env.info()
            #expect(info.mapSize == 8 << 20)
            #expect(env.mapSize == 8 << 20)
            #expect(info.maxReaders == 510)
            #expect(info.pageSize == stat.pageSize)
            #expect(info.lastTransactionID >= 2)
            #expect(info.lastPageNumber > 0)
            #expect(try env.clearStaleReaders() == 0)
            try env.sync(force: true)
        }
    }
}
