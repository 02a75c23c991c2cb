import Foundation
public import Hummingbird
public import Logging
public import ParleyClient
import ServiceLifecycle

/// A connector's outbound half, as its process runs it.
public protocol OutboundConnector: Sendable {
    /// Sends what is owed, then every new message, until ``stop()``.
    func run() async throws
    /// Stops taking messages; what is being sent has its acceptance recorded.
    func stop()
}

/// What every connector executable does the same way: its log, its socket, its secrets, and
/// running its callback server beside its outbound half until SIGTERM or SIGINT.
public enum ConnectorProcess {
    /// Logs to standard error at `level` (one of swift-log's names; `info` otherwise).
    public static func logger(_ label: String, level: String) -> Logger {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: level) ?? .info
        return logger
    }

    /// The daemon's socket: `option`, else `$PARLEY_SOCKET`, else `./data/parleyd.sock`.
    public static func socketPath(_ option: String?) -> String {
        option ?? ProcessInfo.processInfo.environment["PARLEY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "./data/parleyd.sock"
    }

    /// `host:port`, or nil.
    public static func address(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port), colon > text.startIndex
        else { return nil }
        return (String(text[..<colon]), port)
    }

    /// The first line of `file`, a secret (never logged); nil when it is missing or empty.
    public static func secretLine(_ file: String) -> String? {
        guard let data = FileManager.default.contents(atPath: file),
            let line = String(data: data, encoding: .utf8)?.split(separator: "\n").first.map(String.init),
            !line.isEmpty
        else { return nil }
        return line
    }

    /// Prints `message` as `name: message` on standard error and exits 64 (a usage error).
    public static func fail(_ name: String, _ message: String) -> Never {
        FileHandle.standardError.write(Data("\(name): \(message)\n".utf8))
        exit(64)
    }

    /// Serves `router` on `host:port` and runs `outbound` until SIGTERM or SIGINT, then stops
    /// both gracefully and closes `client`.
    /// - Throws: what stopped either early (the port taken, the daemon refusing the role).
    public static func run(
        _ name: String, router: Hummingbird.Router<BasicRequestContext>, host: String, port: Int,
        outbound: some OutboundConnector, client: ParleyClient, logger: Logger
    ) async throws {
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: name),
            onServerRunning: { channel in
                logger.notice(
                    "\(name).listening", metadata: ["callbacks": "http://\(host):\(channel.localAddress?.port ?? port)"]
                )
            },
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app), .init(service: OutboundService(connector: outbound))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    }
}

/// The outbound half as a service: ``OutboundConnector/stop()`` on graceful shutdown.
struct OutboundService<Connector: OutboundConnector>: Service {
    let connector: Connector

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await connector.run()
        } onGracefulShutdown: {
            connector.stop()
        }
    }
}
