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
