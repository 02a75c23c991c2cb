import Foundation
import ParleyCore
import ParleyServer
import Testing

/// What the daemon checks and sets at start so nobody acts beyond their role: the socket's
/// mode, its directory's mode, and the roles a peer's uid and groups are granted.
@Suite("Startup security", .serialized)
struct StartupSecurityTests {
    @Test("the socket is created with mode 0660 (owner and group only)")
    func socketMode() async throws {
        let dir = try TemporaryDirectory()
        let daemon = try await DaemonProcess(directory: dir.path)
        var info = stat()
        #expect(lstat(daemon.socket, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        #expect(info.st_mode & 0o777 == 0o660, "mode \(String(info.st_mode & 0o777, radix: 8))")
        #expect(await daemon.stop() == 0)
    }

    /// Connects to `socket` as uid and gid 65534 (nobody) with only the supplementary group
    /// `group`, and prints the greeting line or the connect error: another user of the machine.
    private func connectAsOtherUser(_ socket: String, group: gid_t) throws -> (status: Int32, output: String) {
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(sys.argv[1])
            except OSError as e:
                print(e.strerror); sys.exit(3)
            f = s.makefile('rb')
            print(f.readline().decode().strip())
            """
        return try runTool("/usr/bin/setpriv", [
            "--reuid=65534", "--regid=65534", "--groups=\(group)", "--", "/usr/bin/python3", "-c", script, socket,
        ])
    }

    /// A directory another user may pass through but not list or write, holding the socket.
    private func socketDirectory(in dir: TemporaryDirectory) throws -> String {
        chmod(dir.path, 0o711)
        let run = dir.path + "/run"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: false)
        chmod(run, 0o711)
        return run + "/parleyd.sock"
    }

    @Test(
        "--socket-group gives the socket a group whose members can connect; without it they cannot",
        .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root and setpriv")
    )
    func socketGroupLetsMembersConnect() async throws {
        let group = try #require(getgrnam("daemon")).pointee.gr_gid
        let dir = try TemporaryDirectory()
        let socket = try socketDirectory(in: dir)
        let arguments = ["--socket", socket, "--frontend-uid", "65534"]

        let closed = try await DaemonProcess(directory: dir.path + "/data", arguments: arguments, socket: socket)
        let refused = try connectAsOtherUser(socket, group: group)
        #expect(refused.status == 3 && refused.output.contains("Permission denied"), "\(refused.output)")
        #expect(await closed.stop() == 0)

        let open = try await DaemonProcess(
            directory: dir.path + "/data", arguments: arguments + ["--socket-group", "daemon"], socket: socket)
        var info = stat()
        #expect(lstat(socket, &info) == 0)
        #expect(info.st_gid == group)
        #expect(info.st_mode & 0o777 == 0o660)
        let admitted = try connectAsOtherUser(socket, group: group)
        #expect(admitted.status == 0, "\(admitted.output)")
        let greeting = try JSONSerialization.jsonObject(with: Data(admitted.output.utf8)) as? [String: Any]
        let peer = try #require((greeting?["params"] as? [String: Any])?["peer"] as? [String: Any])
        #expect(peer["uid"] as? Int == 65534)
        #expect(peer["roles"] as? [String] == ["frontend"], "the role still comes from --frontend-uid")
        #expect(await open.stop() == 0)
    }

    @Test("--socket-mode sets the socket's permission bits; a mode without the owner's read and write is refused")
    func socketModeOption() async throws {
        let dir = try TemporaryDirectory()
        let daemon = try await DaemonProcess(directory: dir.path, arguments: ["--socket-mode", "0600"])
        var info = stat()
        #expect(lstat(daemon.socket, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600, "mode \(String(info.st_mode & 0o777, radix: 8))")
        #expect(await daemon.stop() == 0)
        for bad in ["0460", "999", "01660", "rw"] {
            let refused = try runTool(try DaemonProcess.executable(), ["--data", dir.path, "--socket-mode", bad])
            #expect(refused.status == 64, "\(bad): \(refused.output)")
            #expect(refused.output.contains("--socket-mode must be octal"), "\(refused.output)")
        }
    }

    @Test(
        "a socket passed by the service manager (LISTEN_FDS) is served and left in place at stop",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-socket-activate"), "needs systemd-socket-activate")
    )
    func socketActivation() async throws {
        let dir = try TemporaryDirectory()
        let socket = dir.path + "/activated.sock"
        // systemd-socket-activate listens, then on the first connection execs parleyd with the socket as descriptor 3.
        let daemon = try await DaemonProcess(
            directory: dir.path + "/data", socket: socket, launcher: ["/usr/bin/systemd-socket-activate", "-l", socket])
        let client = try await TestClient.connect(path: socket)
        let head = try await client.result("log.head")
        #expect(head["position"] as? Int ?? 0 > 0, "the demo directory was seeded through the passed socket's daemon")
        client.disconnect()
        #expect(daemon.log.contains("socket.activated=true"), "\(daemon.log)")
        #expect(await daemon.stop() == 0)
        #expect(FileManager.default.fileExists(atPath: socket), "the service manager's socket is not removed")
    }

    @Test("what a service manager passes must be one listening Unix socket; anything else is refused with a reason")
    func socketActivationRefusals() throws {
        let parleyd = try DaemonProcess.executable()
        let dir = try TemporaryDirectory()
        let twoSockets = try runTool("/bin/sh", ["-c", "LISTEN_PID=$$ LISTEN_FDS=2 exec \"$0\" --data \"$1\"", parleyd, dir.path])
        #expect(twoSockets.status == 1)
        #expect(twoSockets.output.contains("parleyd listens on exactly one"), "\(twoSockets.output)")
        let notSocket = try runTool("/bin/sh", ["-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" --data \"$1\" 3</dev/null", parleyd, dir.path])
        #expect(notSocket.status == 1)
        #expect(notSocket.output.contains("is not a listening Unix stream socket"), "\(notSocket.output)")
    }

    @Test("a group- or world-writable socket directory is refused, naming it", arguments: [0o770 as mode_t, 0o757])
    func writableSocketDirectoryRefused(_ mode: mode_t) throws {
        let dir = try TemporaryDirectory()
        let shared = dir.path + "/shared"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: false)
        chmod(shared, mode)
        let refused = try runTool(try DaemonProcess.executable(), ["--data", dir.path + "/data", "--socket", shared + "/parleyd.sock"])
        #expect(refused.status == 1)
        #expect(refused.output.contains("\(shared) is group- or world-writable"), "\(refused.output)")
        #expect(!FileManager.default.fileExists(atPath: shared + "/parleyd.sock"))
    }

    @Test("roles come from the peer's uid and groups: own uid and root are admin, an unknown uid has no role")
    func rolesFromCredentials() {
        let policy = RolePolicy(
            ownUid: 1000,
            uids: [.frontend: [2000], .auditor: [4000]],
            gids: [.carrier: [300], .admin: [10]]
        )
        #expect(policy.roles(uid: 0, gids: [0]) == [.admin])
        #expect(policy.roles(uid: 1000, gids: [1000]) == [.admin])
        #expect(policy.roles(uid: 2000, gids: [2000]) == [.frontend])
        #expect(policy.roles(uid: 3000, gids: [3000, 300]) == [.carrier])
        #expect(policy.roles(uid: 4000, gids: [4000]) == [.auditor])
        #expect(policy.roles(uid: 5000, gids: [5000, 10]) == [.admin])
        #expect(policy.roles(uid: 2000, gids: [300]) == [.frontend, .carrier])
        #expect(policy.roles(uid: 4242, gids: [4242, 100]) == [], "an unknown uid has no role")
    }
}
