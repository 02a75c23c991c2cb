import Foundation
import ParleyStore

#if canImport(Glibc)
import Glibc
#endif

/// Why a connection to the daemon failed or ended.
enum LineClientError: Error, CustomStringConvertible {
    /// The socket could not be reached.
    case connect(String)
    /// The daemon closed the connection (or it broke): the expected outcome of a kill.
    case closed
    /// A line that is not a JSON object.
    case garbled(String)

    var description: String {
        switch self {
        case .connect(let reason): "cannot connect: \(reason)"
        case .closed: "the connection closed"
        case .garbled(let line): "not a JSON object: \(line)"
        }
    }
}

/// A blocking JSON-lines client over a Unix socket, used by one thread at a time.
final class LineClient {
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var nextId = 0
    /// The greeting's params (`server.hello`).
    private(set) var greeting: [String: Any] = [:]

    /// How long a read may wait before the daemon counts as stuck (seconds): generous, so a
    /// loaded machine never trips it; a killed daemon ends the stream at once anyway.
    static let patience = 120

    /// Connects and reads the greeting; `timeout` bounds every read.
    init(path: String, timeout: Int = LineClient.patience) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LineClientError.connect(SystemError.reason()) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            disconnect()
            throw LineClientError.connect("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            let reason = SystemError.reason()
            // `deinit` runs after a throw from here on: the descriptor must be closed once.
            disconnect()
            throw LineClientError.connect(reason)
        }
        var time = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        let hello = try readObject()
        greeting = hello["params"] as? [String: Any] ?? [:]
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Closes the socket.
    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// Sends one line (a newline is added unless `terminated` is false).
    func send(_ line: String, terminated: Bool = true) throws {
        let bytes = Array((terminated ? line + "\n" : line).utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw LineClientError.closed }
            offset += written
        }
    }

    /// Reads one line; throws ``LineClientError/closed`` at the end of the stream or on a reset.
    func readLine() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeFirst(newline + 1)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw LineClientError.closed }
            buffer += chunk[..<count]
        }
    }

    /// Reads one JSON object line.
    func readObject() throws -> [String: Any] {
        let line = try readLine()
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw LineClientError.garbled(line)
        }
        return object
    }

    /// Sends a request (`params` is JSON object text) and returns its answer (the whole
    /// response object), skipping notifications.
    func call(_ method: String, params: String) throws -> [String: Any] {
        nextId += 1
        let id = nextId
        try send(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#)
        while true {
            let object = try readObject()
            if object["id"] as? Int == id { return object }
        }
    }
}
