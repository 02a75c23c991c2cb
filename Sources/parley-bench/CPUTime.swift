import Glibc

/// CPU time consumed so far by a process, in seconds (user plus system, every thread).
enum CPUTime {
    /// The daemon's CPU time from `/proc/PID/stat` (`utime` + `stime`, fields 14 and 15, in clock
    /// ticks of `sysconf(_SC_CLK_TCK)`, summed over the process's threads by the kernel).
    ///
    /// - Throws: ``BenchError`` when the file cannot be read or does not parse.
    static func process(pid: Int32) throws(BenchError) -> Double {
        let path = "/proc/\(pid)/stat"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open \(path)", errno) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { throw .system("read \(path)", errno) }
        return try ticks(stat: bytes[..<n]) / Double(clockTicksPerSecond)
    }

    /// `utime + stime` in clock ticks from the text of a `/proc/PID/stat` file.
    ///
    /// The command name (field 2) is in parentheses and may itself hold spaces and parentheses, so
    /// the fields are counted from the last `)`: field 3 (the state) is the first after it.
    static func ticks(stat: ArraySlice<UInt8>) throws(BenchError) -> Double {
        guard let nameEnd = stat.lastIndex(of: UInt8(ascii: ")")) else {
            throw .unexpected("/proc stat without a command name")
        }
        let fields = stat[(nameEnd + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3; utime is field 14, stime field 15.
        guard fields.count > 12, let user = Double(String(decoding: fields[11], as: UTF8.self)),
            let system = Double(String(decoding: fields[12], as: UTF8.self))
        else { throw .unexpected("/proc stat without utime and stime") }
        return user + system
    }

    /// This process's own CPU time (`getrusage(RUSAGE_SELF)`: user plus system, every thread).
    static func selfSeconds() -> Double {
        var usage = rusage()
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return .nan }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    private static func seconds(_ t: timeval) -> Double {
        Double(t.tv_sec) + Double(t.tv_usec) / 1e6
    }

    /// Clock ticks per second for `/proc` CPU times (100 on Linux unless configured otherwise).
    private static let clockTicksPerSecond: Int = {
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        return ticks > 0 ? ticks : 100
    }()
}
