import Foundation

#if canImport(Glibc)
    public import Glibc
#elseif canImport(Musl)
    public import Musl
#elseif canImport(Darwin)
    public import Darwin
#endif

/// Why a client call failed.
public enum ClientError: Error, CustomStringConvertible {
    /// The socket could not be reached; `reason` says why.
    case connect(path: String, reason: String)
    /// The connection broke or the server sent something that is not the protocol.
    case connection(String)
    /// No answer came within the receive timeout.
    case timeout(seconds: Double)
    /// The server answered with an error (a refusal or a bad request).
    case remote(code: Int, type: String, message: String, retryable: Bool)

    public var description: String {
        switch self {
        case .connect(let path, let reason):
            return "cannot connect to \(path): \(reason). Is parleyd running? Start it with `make run`, "
                + "or `parleyd --socket \(path)`; choose another socket with --socket or PARLEY_SOCKET."
        case .connection(let detail): return "connection error: \(detail)"
        case .timeout(let seconds):
            return
                "no answer from the server within \(seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)) s (see --timeout)"
        case .remote(_, let type, let message, _): return "\(type): \(message)"
        }
    }
}

/// Splits a byte stream into `\n`-terminated lines, refusing lines longer than a cap.
struct ClientLineBuffer {
    /// Longest accepted line in bytes, excluding the newline.
    let maxLineBytes: Int
    private var bytes: [UInt8] = []
    private var start = 0
    private var scanned = 0

    init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    /// Adds received bytes.
    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        if start > 0 && start >= bytes.count / 2 {
            bytes.removeFirst(start)
            scanned -= start
            start = 0
        }
        bytes.append(contentsOf: chunk)
    }

    /// The next complete line without its newline (and without a trailing `\r`), or nil when
    /// more bytes are needed. Throws when the pending line is longer than the cap.
    mutating func nextLine() throws(ClientError) -> [UInt8]? {
        var i = max(scanned, start)
        while i < bytes.count {
            if bytes[i] == 0x0A {
                var end = i
                if end > start && bytes[end - 1] == 0x0D { end -= 1 }
                let line = Array(bytes[start..<end])
                start = i + 1
                scanned = start
                if line.count > maxLineBytes {
                    throw .connection("the server sent a line longer than \(maxLineBytes) bytes")
                }
                return line
            }
            i += 1
        }
        scanned = i
        if bytes.count - start > maxLineBytes {
            throw .connection("the server sent a line longer than \(maxLineBytes) bytes")
        }
        return nil
    }

    /// Bytes received but not yet returned as a line.
    var pendingCount: Int { bytes.count - start }
}

/// A blocking JSON-RPC 2.0 client over a Unix-domain stream socket speaking JSON lines.
///
/// Connecting reads the server's `server.hello` greeting. ``call(method:params:)`` sends one
/// request and reads lines until its answer; notifications read meanwhile are stashed in
/// ``notifications``.
public final class ClientConnection {
    /// The socket path.
    public let path: String
    /// The `params` of the server's `server.hello` greeting.
    public private(set) var greeting: [String: Any] = [:]
    /// Notifications received while waiting for answers, oldest first.
    public var notifications: [[String: Any]] = []
    /// The `error` object of the last error answer, as the server sent it.
    public private(set) var lastErrorObject: [String: Any]?

    private var fd: Int32 = -1
    private var nextID = 1
    private var buffer: ClientLineBuffer
    private var timeoutSeconds: Double?

    /// Connects to the socket at `path` and reads the greeting.
    /// - Parameters:
    ///   - timeout: seconds to wait for each line from the server; nil waits forever.
    ///   - maxLineBytes: longest line accepted from the server.
    public init(path: String, timeout: Double? = 30, maxLineBytes: Int = 64 << 20) throws(ClientError) {
        self.path = path
        buffer = ClientLineBuffer(maxLineBytes: maxLineBytes)
        try open()
        try setTimeout(timeout)
        do {
            greeting = try readGreeting()
        } catch {
            close()
            throw error
        }
    }

    private func readGreeting() throws(ClientError) -> [String: Any] {
        guard let hello = try readMessage() else {
            throw .connection("the server closed the connection before greeting")
        }
        guard hello["method"] as? String == "server.hello" else {
            throw .connection("the server's first line is not a server.hello greeting")
        }
        return hello["params"] as? [String: Any] ?? [:]
    }

    deinit { close() }

    /// Closes the socket.
    public func close() {
        if fd >= 0 {
            _ = ClientSys.close(fd)
            fd = -1
        }
    }

    /// Sets the receive timeout (SO_RCVTIMEO) for later reads; nil or 0 waits forever.
    public func setTimeout(_ seconds: Double?) throws(ClientError) {
        timeoutSeconds = seconds
        var tv = timeval()
        if let seconds, seconds > 0 {
            tv.tv_sec = .init(seconds.rounded(.down))
            tv.tv_usec = .init(((seconds - seconds.rounded(.down)) * 1_000_000).rounded())
        }
        let rc = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if rc != 0 { throw .connection("cannot set the receive timeout: \(Self.errnoText())") }
    }

    /// Sends a request and returns its `result` object (an empty dictionary when the result
    /// is not an object).
    /// - Throws: ``ClientError/remote(code:type:message:retryable:)`` on an error answer.
    @discardableResult
    public func call(method: String, params: [String: Any] = [:]) throws(ClientError) -> [String: Any] {
        let id = try send(method: method, params: params)
        while true {
            guard let message = try readMessage() else {
                throw .connection("the server closed the connection before answering \(method)")
            }
            if let answer = try answer(message, to: id) { return answer }
        }
    }

    /// Sends a request without waiting; returns its id.
    public func send(method: String, params: [String: Any]) throws(ClientError) -> Int {
        let id = nextID
        nextID += 1
        let request: [String: Any] = ["jsonrpc": "2.0", "id": id, "method": method, "params": params]
        guard JSONSerialization.isValidJSONObject(request),
            var data = try? JSONSerialization.data(
                withJSONObject: request, options: [.sortedKeys, .withoutEscapingSlashes])
        else { throw .connection("the parameters of \(method) are not valid JSON") }
        data.append(0x0A)
        try writeAll(data)
        return id
    }

    /// If `message` answers request `id`, its result (or the thrown error); nil for a
    /// notification (stashed) or an answer to another request (dropped).
    public func answer(_ message: [String: Any], to id: Int) throws(ClientError) -> [String: Any]? {
        if message["id"] == nil || message["id"] is NSNull, message["method"] is String {
            notifications.append(message)
            return nil
        }
        guard let answerID = ClientJSON.int(message["id"]) else {
            if let error = message["error"] as? [String: Any] { throw remoteError(error) }
            return nil
        }
        guard answerID == id else { return nil }
        if let error = message["error"] as? [String: Any] { throw remoteError(error) }
        return message["result"] as? [String: Any] ?? [:]
    }

    /// Reads the next line as text; nil at the end of the stream.
    public func readLine() throws(ClientError) -> String? {
        while true {
            if let line = try buffer.nextLine() { return String(decoding: line, as: UTF8.self) }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = chunk.withUnsafeMutableBytes { ClientSys.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                chunk.withUnsafeBytes { buffer.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            } else if n == 0 {
                if buffer.pendingCount > 0 {
                    throw .connection("the server closed the connection in the middle of a line")
                }
                return nil
            } else {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { throw .timeout(seconds: timeoutSeconds ?? 0) }
                throw .connection("read failed: \(Self.errnoText(code))")
            }
        }
    }

    /// Reads the next line as a JSON object; nil at the end of the stream.
    public func readMessage() throws(ClientError) -> [String: Any]? {
        guard let line = try readLine() else { return nil }
        return try ClientJSON.object(line)
    }

    // MARK: Private

    private func remoteError(_ error: [String: Any]) -> ClientError {
        lastErrorObject = error
        let data = error["data"] as? [String: Any] ?? [:]
        return .remote(
            code: ClientJSON.int(error["code"]) ?? 0, type: data["type"] as? String ?? "Error",
            message: error["message"] as? String ?? "(no message)",
            retryable: ClientJSON.bool(data["retryable"]) ?? false
        )
    }

    private func open() throws(ClientError) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !pathBytes.isEmpty else { throw .connect(path: path, reason: "the socket path is empty") }
        guard pathBytes.count < capacity else {
            throw .connect(
                path: path, reason: "the path is longer than \(capacity - 1) bytes, the limit for a Unix socket")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        #if canImport(Glibc)
            let streamType = Int32(SOCK_STREAM.rawValue)
        #else
            let streamType = SOCK_STREAM
        #endif
        let socketFD = socket(AF_UNIX, streamType, 0)
        guard socketFD >= 0 else { throw .connect(path: path, reason: "socket() failed: \(Self.errnoText())") }
        let rc = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                ClientSys.connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let code = errno
            _ = ClientSys.close(socketFD)
            let reason: String
            switch code {
            case ENOENT: reason = "no such socket"
            case ECONNREFUSED: reason = "nothing is listening there (a stale socket file?)"
            case EACCES, EPERM: reason = "permission denied"
            case ENOTSOCK: reason = "the path is not a socket"
            default: reason = Self.errnoText(code)
            }
            throw .connect(path: path, reason: reason)
        }
        fd = socketFD
    }

    private func writeAll(_ data: Data) throws(ClientError) {
        let failure: Int32? = data.withUnsafeBytes { raw -> Int32? in
            var offset = 0
            while offset < raw.count {
                let n = ClientSys.send(fd, raw.baseAddress! + offset, raw.count - offset, ClientSys.noSignal)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
        if let failure { throw .connection("write failed: \(Self.errnoText(failure))") }
    }

    private static func errnoText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}

/// The C functions whose names clash with methods, reached unambiguously.
public enum ClientSys {
    #if canImport(Glibc)
        public static let noSignal = Int32(MSG_NOSIGNAL)
    #elseif canImport(Musl)
        public static let noSignal = MSG_NOSIGNAL
    #else
        public static let noSignal: Int32 = 0
    #endif

    public static func close(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
            Glibc.close(fd)
        #elseif canImport(Musl)
            Musl.close(fd)
        #else
            Darwin.close(fd)
        #endif
    }

    public static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
            Glibc.read(fd, buffer, count)
        #elseif canImport(Musl)
            Musl.read(fd, buffer, count)
        #else
            Darwin.read(fd, buffer, count)
        #endif
    }

    public static func send(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, _ flags: Int32) -> Int {
        #if canImport(Glibc)
            Glibc.send(fd, buffer, count, flags)
        #elseif canImport(Musl)
            Musl.send(fd, buffer, count, flags)
        #else
            Darwin.send(fd, buffer, count, flags)
        #endif
    }

    public static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
        #if canImport(Glibc)
            Glibc.connect(fd, address, length)
        #elseif canImport(Musl)
            Musl.connect(fd, address, length)
        #else
            Darwin.connect(fd, address, length)
        #endif
    }

    /// Writes all of `text` to a file descriptor, unbuffered (so lines are never held back).
    public static func write(_ text: String, to fd: Int32) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                #if canImport(Glibc)
                    Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                #elseif canImport(Musl)
                    Musl.write(fd, raw.baseAddress! + offset, raw.count - offset)
                #else
                    Darwin.write(fd, raw.baseAddress! + offset, raw.count - offset)
                #endif
            }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
    }
}
