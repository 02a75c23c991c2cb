import Foundation
import ParleyCore
import ParleyServer
import Testing

/// The `parley` executable beside `parleyd`.
func parleyTool() throws -> String {
    URL(fileURLWithPath: try DaemonProcess.executable()).deletingLastPathComponent().appendingPathComponent("parley").path
}

/// Storage faults as the daemon meets them: a full disk, a damaged log, a data directory that
/// is missing or not writable.
@Suite("Storage faults in parleyd", .serialized)
struct StorageFaultDaemonTests {
    static let canRunPrlimit = FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit")

    /// Sets the soft file-size limit of a running process (`prlimit --pid`).
    static func limitFileSize(of pid: Int32, to limit: String) throws {
        let run = try runTool("/usr/bin/prlimit", ["--pid", "\(pid)", "--fsize=\(limit):"])
        #expect(run.status == 0, "prlimit: \(run.output)")
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    @Test(
        "a full disk: commands get StorageFull (retryable), nothing is written; once space is freed service resumes without a restart",
        .enabled(if: canRunPrlimit, "needs prlimit (util-linux)")
    )
    func diskFullThenResume() async throws {
        let dir = try TemporaryDirectory()
        let daemon = try await DaemonProcess(directory: dir.path)
        let pid = daemon.process.processIdentifier
        let client = try await TestClient.connect(path: daemon.socket)
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let text = String(repeating: "Your parcel is on its way. ", count: 37)
        func send(_ i: Int) -> [String: Any] {
            ["agentId": "alice", "serviceId": "support", "customerNumber": "+1555600" + String(format: "%04d", i), "text": text,
             "idempotencyKey": "full-\(i)"]
        }
        // The files may grow by a few pages more, then every write past that fails with EFBIG,
        // as it would with ENOSPC on a full disk.
        let limit = max(Self.fileSize(dir.path + "/log.mdb"), Self.fileSize(dir.path + "/projections.mdb")) + (48 << 10)
        try Self.limitFileSize(of: pid, to: "\(limit)")
        var failed: Int?
        var lastPosition = 0
        for i in 0..<400 {
            let answer = try await client.call("sms.send", send(i))
            if let result = answer["result"] as? [String: Any] {
                lastPosition = result["position"] as? Int ?? lastPosition
                continue
            }
            let error = try #require(answer["error"] as? [String: Any], "\(answer)")
            let data = error["data"] as? [String: Any]
            #expect(data?["type"] as? String == "StorageFull", "\(answer)")
            #expect(data?["retryable"] as? Bool == true)
            #expect((error["message"] as? String)?.contains("nothing was written") == true, "\(answer)")
            failed = i
            break
        }
        let first = try #require(failed, "the file-size limit was never reached")
        let headWhileFull = try await client.result("log.head")
        #expect(headWhileFull["position"] as? Int == lastPosition, "a refused command wrote nothing")
        #expect(try await client.errorType("sms.send", send(first)) == "StorageFull", "still full: still refused")
        #expect(try await client.result("agent.view", ["agentId": "alice"])["agent"] != nil, "queries are served while full")

        try Self.limitFileSize(of: pid, to: "unlimited")
        let retried = try await client.result("sms.send", send(first))
        #expect(retried["replayed"] as? Bool == false, "the refused command had not been applied")
        #expect(retried["position"] as? Int ?? 0 > lastPosition)
        try await client.result("sms.send", send(first + 1))
        #expect(await daemon.stop() == 0)

        let audit = try runTool(try parleyTool(), ["audit", "verify", "--data", dir.path])
        #expect(audit.status == 0, "audit verify after the full disk: \(audit.output)")
    }

    @Test("a damaged event in the log's tail: parleyd refuses to start, exits 1 naming the position, and leaves the log as it is")
    func damagedLogRefused() async throws {
        let dir = try TemporaryDirectory()
        let daemon = try await DaemonProcess(directory: dir.path)
        let client = try await TestClient.connect(path: daemon.socket)
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let canary = "bit-rot-canary-0123456789"
        let sent = try await client.result("sms.send", [
            "agentId": "alice", "serviceId": "support", "customerNumber": "+15556660001", "text": canary,
        ])
        let position = try #require(sent["position"] as? Int)
        try await client.result("agent.logout", ["agentId": "alice"])
        #expect(await daemon.stop() == 0)

        // Flip one character of the message text wherever it is in the file (LMDB may keep an old copy of the page).
        let path = dir.path + "/log.mdb"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let needle = Array(canary.utf8)
        var flipped = 0
        var i = 0
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0], Array(bytes[i..<(i + needle.count)]) == needle {
                bytes[i + needle.count - 1] ^= 0x01
                flipped += 1
                i += needle.count
            } else {
                i += 1
            }
        }
        #expect(flipped > 0)
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let refused = try runTool(try DaemonProcess.executable(), ["--data", dir.path])
        #expect(refused.status == 1)
        #expect(refused.output.contains("damaged at position \(position)"), "\(refused.output)")
        #expect(refused.output.contains("audit verify"), "\(refused.output)")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == bytes, "the log was not modified")
        let audit = try runTool(try parleyTool(), ["audit", "verify", "--data", dir.path])
        #expect(audit.status == 1, "\(audit.output)")
    }

    /// A data directory with one sent message, the daemon stopped; returns its position.
    static func directoryWithOneMessage(_ dir: TemporaryDirectory, text: String) async throws -> Int {
        let daemon = try await DaemonProcess(directory: dir.path)
        let client = try await TestClient.connect(path: daemon.socket)
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let sent = try await client.result("sms.send", [
            "agentId": "alice", "serviceId": "support", "customerNumber": "+15556660002", "text": text,
        ])
        #expect(await daemon.stop() == 0)
        return try #require(sent["position"] as? Int)
    }

    @Test("a meta page whose page size is zero: parleyd and the tools refuse log.mdb with MDB_INVALID instead of dividing by zero")
    func zeroPageSizeRefused() async throws {
        let dir = try TemporaryDirectory()
        _ = try await Self.directoryWithOneMessage(dir, text: "page size")
        let path = dir.path + "/log.mdb"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // mm_psize of both meta pages (pages 0 and 1 of 4 KiB), as a torn or zeroed meta write leaves it.
        for meta in [0, 4096] { bytes.replaceSubrange(meta + 40..<meta + 44, with: [0, 0, 0, 0]) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let refused = try runTool(try DaemonProcess.executable(), ["--data", dir.path])
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.output.contains("page size 0"), "\(refused.output)")
        for tool in [["audit", "verify"], ["stats"], ["log", "dump"], ["backup", "--to", dir.path + "/copy"]] {
            let run = try runTool(try parleyTool(), tool + ["--data", dir.path])
            #expect(run.status == 1, "\(tool): \(run.output)")
            #expect(run.output.contains("damaged") && run.output.contains("log.mdb"), "\(tool): \(run.output)")
        }
    }

    @Test("an event whose stored length was changed to 2 GiB: audit verify's reading process crashes, and parley exits 1 saying log.mdb is damaged")
    func crashWhileReadingIsContained() async throws {
        let dir = try TemporaryDirectory()
        let position = try await Self.directoryWithOneMessage(dir, text: "overlong")
        let path = dir.path + "/log.mdb"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // A leaf node is: data size (low, high 16 bits), flags, key size (8), then the key, the
        // big-endian position. Every copy of the event's node gets a data size of about 2 GiB.
        let key = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(position) >> (8 * (7 - $0))) }
        var changed = 0
        for node in stride(from: 0, to: bytes.count - 16, by: 2)
        where bytes[node + 4] == 0 && bytes[node + 5] == 0 && bytes[node + 6] == 8 && bytes[node + 7] == 0
            && Array(bytes[node + 8..<node + 16]) == key
        {
            bytes[node + 2] = 0xFF
            bytes[node + 3] = 0x7F
            changed += 1
        }
        #expect(changed > 0)
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let audit = try runTool(try parleyTool(), ["audit", "verify", "--data", dir.path])
        #expect(audit.status == 1, "\(audit.output)")
        #expect(audit.output.contains("the data directory is damaged: the process reading it crashed"), "\(audit.output)")
        // Run again without the projections, it crashes again: the log is what is damaged.
        #expect(audit.output.contains("The damage is in the page structure of log.mdb, read without the projections"), "\(audit.output)")
    }

    @Test("a missing data directory is created when its parent exists (mode 0750); a missing parent is refused")
    func missingDirectory() async throws {
        let dir = try TemporaryDirectory()
        let fresh = dir.path + "/fresh"
        let daemon = try await DaemonProcess(directory: fresh)
        var info = stat()
        #expect(stat(fresh, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o750)
        #expect(await daemon.stop() == 0)

        let deep = dir.path + "/no/such/parent/data"
        let refused = try runTool(try DaemonProcess.executable(), ["--data", deep])
        #expect(refused.status == 1)
        #expect(refused.output.contains("nor does its parent"), "\(refused.output)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/no"), "nothing was created")
    }

    @Test(
        "a data directory the daemon's user cannot write is refused with a clear message",
        .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root to run as nobody")
    )
    func notWritableDirectory() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false)
        chmod(dir.path, 0o755)
        chmod(data, 0o755)
        let refused = try runTool("/usr/bin/setpriv", [
            "--reuid=65534", "--regid=65534", "--clear-groups", "--", try DaemonProcess.executable(), "--data", data,
        ])
        #expect(refused.status == 1)
        #expect(refused.output.contains("is not writable"), "\(refused.output)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: data))?.isEmpty == true, "nothing was written")
    }
}
