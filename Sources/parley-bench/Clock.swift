import Glibc

/// Nanoseconds on the monotonic clock; every latency the bench reports is a difference of two of these.
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Seconds between two `monotonicNanos()` readings.
func seconds(from start: UInt64, to end: UInt64) -> Double {
    Double(end &- start) / 1e9
}
