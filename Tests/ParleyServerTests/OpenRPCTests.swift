import Foundation
import ParleyProtocol
@testable import ParleyServer
import Testing

/// The OpenRPC document `rpc.discover` returns is generated from `schemas/protocol/` and
/// must list exactly the methods the server knows.
@Suite struct OpenRPCTests {
    /// The repository root: three levels up from this file (Tests/ParleyServerTests/OpenRPCTests.swift).
    private static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func generatedDocumentIsUpToDate() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "tools/gen-openrpc", "--check"]
        process.currentDirectoryURL = Self.repositoryRoot
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "tools/gen-openrpc --check failed: \(text)")
    }

    @Test func documentListsEveryMethodByName() throws {
        let parsed = try JSONSerialization.jsonObject(with: Data(OpenRPCDocument.json.utf8))
        let document = try #require(parsed as? [String: Any])
        #expect(document["openrpc"] as? String == "1.2.6")
        let methods = try #require(document["methods"] as? [[String: Any]])
        let names = methods.compactMap { $0["name"] as? String }
        #expect(names.count == methods.count)
        #expect(names.count == Set(names).count, "duplicate method names")
        #expect(Set(names) == Set(ParleyProtocol.Method.allCases.map(\.rawValue)))
        for method in methods {
            let name = method["name"] as? String ?? "?"
            #expect(method["paramStructure"] as? String == "by-name", "\(name) must take by-name params")
            #expect(method["params"] is [Any], "\(name) must list its params")
            #expect(method["result"] is [String: Any], "\(name) must describe its result")
        }
    }

    @Test func discoverReturnsTheGeneratedDocument() {
        #expect(OpenRPC.document == OpenRPCDocument.json)
    }
}
