/// Latency summary of a set of samples in nanoseconds, reported in milliseconds.
struct LatencySummary: Equatable {
    /// Number of samples.
    var count: Int
    /// Median, milliseconds.
    var p50: Double
    /// 99th percentile, milliseconds.
    var p99: Double
    /// 99.9th percentile, milliseconds.
    var p999: Double
    /// Largest sample, milliseconds.
    var max: Double

    /// Summarises `samples` (nanoseconds); with none, every figure is NaN (printed as `null`,
    /// so an empty run never passes for a zero latency).
    ///
    /// Percentiles use the nearest-rank method: the value at rank ceil(p × n) of the sorted samples.
    init(nanoseconds samples: [Int64]) {
        let sorted = samples.sorted()
        count = sorted.count
        p50 = Self.rank(0.50, sorted)
        p99 = Self.rank(0.99, sorted)
        p999 = Self.rank(0.999, sorted)
        max = sorted.last.map { Double($0) / 1e6 } ?? .nan
    }

    /// The nearest-rank percentile `p` (0…1) of sorted samples, in milliseconds.
    static func rank(_ p: Double, _ sorted: [Int64]) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let index = Swift.max(0, Swift.min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1))
        return Double(sorted[index]) / 1e6
    }

    /// The summary as JSON members with a name prefix, e.g. `"ackP50Ms":0.412`.
    func jsonMembers(prefix: String) -> [(String, JSONNumber)] {
        [
            ("\(prefix)Samples", .int(count)), ("\(prefix)P50Ms", .double(p50)), ("\(prefix)P99Ms", .double(p99)),
            ("\(prefix)P999Ms", .double(p999)), ("\(prefix)MaxMs", .double(max)),
        ]
    }
}

/// A number for the one-line JSON the bench prints.
enum JSONNumber {
    case int(Int)
    case double(Double)

    /// The JSON text.
    var text: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return v.isFinite ? String((v * 10_000).rounded() / 10_000) : "null"
        }
    }
}

/// One flat JSON object of numbers (plus a `kind` string), printed as one line on stdout.
func printResult(kind: String, _ members: [(String, JSONNumber)]) {
    let body = members.map { "\"\($0.0)\":\($0.1.text)" }.joined(separator: ",")
    print("{\"kind\":\"\(kind)\"\(body.isEmpty ? "" : ",")\(body)}")
}
