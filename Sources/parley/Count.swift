import ArgumentParser
import Foundation
import ParleyCore

/// `parley count TEXT [--json]`: what a message costs to send as SMS.
struct Count: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count",
        abstract: "Count the SMS segments a message needs, and why.",
        discussion: """
            Prints the display string ("N" for one message, "N (M messages)" \
            otherwise, N being the characters as a person sees them), the \
            encoding (GSM-7, or UCS-2 when any character is outside the GSM \
            03.38 tables), the units (septets or UTF-16 code units), the \
            segments, the units left in the last segment, and the characters \
            that force UCS-2. GSM-7 holds 160 septets in one message or 153 per \
            part; UCS-2 holds 70 or 67 code units.

            With --json, prints one compact JSON object with the sorted keys \
            characters, display, encoding, nonGsm, remaining, segments, units.
            """
    )

    @Argument(help: "The message text, counted exactly as given (no normalisation).")
    var text: String

    @Flag(help: "Print one compact JSON object instead of text lines.")
    var json = false

    func run() throws {
        let count = SegmentCounter.count(text)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(count), as: UTF8.self))
        } else {
            print(Self.describe(count))
        }
    }

    /// The human-readable lines for a count.
    static func describe(_ count: SegmentCount) -> String {
        let unitName = count.encoding == .gsm7 ? "septets" : "UTF-16 code units"
        var lines = [
            count.display,
            "encoding:  \(count.encoding.rawValue)",
            "units:     \(count.units) \(unitName)",
            "segments:  \(count.segments)",
            "remaining: \(count.remaining) \(unitName) in the last segment",
        ]
        if !count.nonGsm.isEmpty {
            let shown = count.nonGsm.map { cluster in
                let points = cluster.unicodeScalars.map {
                    "U+" + String($0.value, radix: 16, uppercase: true).leftPadded(to: 4)
                }
                return "\"\(cluster)\" (\(points.joined(separator: " ")))"
            }
            lines.append("forcing UCS-2: " + shown.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// The string left-padded with zeros to at least `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
