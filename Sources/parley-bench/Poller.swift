import Glibc

/// One client connection to the daemon's Unix socket, driven by a ``Poller``.
///
/// Lines the daemon sends are handed, without their `\n`, to ``onLine`` (a buffer valid only
/// during the call). Everything runs on the poller's one thread.
final class Connection {
    /// The socket.
    let fd: Int32
    /// Index given by the owner (e.g. which subscriber or writer this is).
    let tag: Int
    /// Called for every complete line received.
    var onLine: (UnsafeRawBufferPointer) -> Void = { _ in }
    /// A partial line carried over between reads.
    var partial: [UInt8] = []
    /// Bytes not yet accepted by the socket.
    var pending: [UInt8] = []
    /// Requests sent and not yet answered (maintained by the owner).
    var inFlight = 0

    init(fd: Int32, tag: Int) {
        self.fd = fd
        self.tag = tag
    }
}

/// A single-threaded `poll(2)` loop over many ``Connection``s: the load generator's whole engine.
///
/// One thread and no JSON library keep the client cheap next to the daemon it measures.
final class Poller {
    /// Connections by file descriptor.
    private var connections: [Int32: Connection] = [:]
    /// The `poll` set, rebuilt when connections or their write interest change.
    private var pollSet: [pollfd] = []
    /// Whether ``pollSet`` must be rebuilt.
    private var pollSetStale = true
    /// The read buffer shared by every connection.
    private let buffer: UnsafeMutableRawBufferPointer
    /// Connections closed by the peer, in order.
    private(set) var closedCount = 0

    init() throws(BenchError) {
        buffer = .allocate(byteCount: 1 << 20, alignment: 16)
        raiseFileLimit()
    }

    deinit {
        for fd in connections.keys { close(fd) }
        buffer.deallocate()
    }

    /// Connects to the Unix socket at `path` (blocking connect, then non-blocking I/O).
    func connect(path: String, tag: Int = 0) throws(BenchError) -> Connection {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw .unexpected("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw .system("connect \(path)", code)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        pollSetStale = true
        let connection = Connection(fd: fd, tag: tag)
        connections[fd] = connection
        return connection
    }

    /// Closes a connection.
    func disconnect(_ connection: Connection) {
        guard connections.removeValue(forKey: connection.fd) != nil else { return }
        close(connection.fd)
        pollSetStale = true
    }

    /// Sends `line` plus `\n`; what the socket does not take now is sent when it becomes writable.
    func send(_ connection: Connection, _ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        if !connection.pending.isEmpty {
            connection.pending += bytes
            return
        }
        let written = bytes.withUnsafeBytes { write(connection.fd, $0.baseAddress, $0.count) }
        let sent = max(0, written)
        if sent < bytes.count {
            connection.pending = Array(bytes[sent...])
            pollSetStale = true
        }
    }

    /// Waits up to `timeoutMs` for I/O and handles it (reads, line callbacks, pending writes).
    func poll(timeoutMs: Int32) throws(BenchError) {
        if pollSetStale {
            pollSet = connections.values.map { c in
                pollfd(fd: c.fd, events: Int16(POLLIN) | (c.pending.isEmpty ? 0 : Int16(POLLOUT)), revents: 0)
            }
            pollSetStale = false
        }
        let n = Glibc.poll(&pollSet, nfds_t(pollSet.count), timeoutMs)
        if n < 0 {
            if errno == EINTR { return }
            throw .system("poll", errno)
        }
        guard n > 0 else { return }
        for i in pollSet.indices where pollSet[i].revents != 0 {
            let revents = pollSet[i].revents
            pollSet[i].revents = 0
            guard let connection = connections[pollSet[i].fd] else { continue }
            if revents & Int16(POLLOUT) != 0 { flush(connection) }
            if revents & (Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR)) != 0 { readAvailable(connection) }
        }
    }

    /// Polls until `done()` is true; throws when `deadline` (monotonic ns) passes first.
    /// Polls until `done` or `deadline`; returns whether `done` came first.
    func wait(until done: () -> Bool, deadline: UInt64) throws(BenchError) -> Bool {
        while !done() {
            if monotonicNanos() > deadline { return false }
            try poll(timeoutMs: 10)
        }
        return true
    }

    func run(until done: () -> Bool, deadline: UInt64, what: String) throws(BenchError) {
        while !done() {
            if monotonicNanos() > deadline { throw .timeout(what) }
            try poll(timeoutMs: 10)
        }
    }

    private func flush(_ connection: Connection) {
        guard !connection.pending.isEmpty else { return }
        let written = connection.pending.withUnsafeBytes { write(connection.fd, $0.baseAddress, $0.count) }
        if written > 0 { connection.pending.removeFirst(written) }
        if connection.pending.isEmpty { pollSetStale = true }
    }

    /// Reads until the socket would block, splitting lines.
    private func readAvailable(_ connection: Connection) {
        guard let base = buffer.baseAddress else { return }
        while true {
            let n = read(connection.fd, base, buffer.count)
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) {
                closedCount += 1
                disconnect(connection)
                return
            }
            if n < 0 { return }
            split(UnsafeRawBufferPointer(start: base, count: n), connection)
            if n < buffer.count { return }
        }
    }

    private func split(_ chunk: UnsafeRawBufferPointer, _ connection: Connection) {
        guard let start = chunk.baseAddress else { return }
        var offset = 0
        while offset < chunk.count {
            let rest = chunk.count - offset
            guard let hit = memchr(start + offset, 0x0A, rest) else {
                connection.partial.append(contentsOf: UnsafeRawBufferPointer(start: start + offset, count: rest))
                return
            }
            let end = UnsafeRawPointer(hit) - start
            let piece = UnsafeRawBufferPointer(start: start + offset, count: end - offset)
            if connection.partial.isEmpty {
                connection.onLine(piece)
            } else {
                connection.partial.append(contentsOf: piece)
                let line = connection.partial
                connection.partial.removeAll(keepingCapacity: true)
                line.withUnsafeBytes { connection.onLine($0) }
            }
            offset = end + 1
        }
    }
}

/// Raises the soft limit on open files to the hard limit (1 000 subscribers need more than 1 024).
func raiseFileLimit() {
    var limit = rlimit()
    guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(RLIMIT_NOFILE_VALUE, &limit)
}

/// `RLIMIT_NOFILE` as the type Glibc's `getrlimit` takes.
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
