import ArgumentParser
import Foundation
import ParleyCore
import ParleyStore

/// Measures the stored event encoding against Foundation's JSON on the same events.
struct CodecBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec-bench",
        abstract: "Encode and decode typical MessageSent events: binary layout vs JSONEncoder/JSONDecoder (build with -c release)."
    )

    @Option(help: "Events per run.") var count = 200_000
    @Option(help: "Runs; the median is reported.") var runs = 5

    func run() throws {
        let events = (0..<count).map(Self.sample)
        try measure(events)
    }

    private static func sample(_ i: Int) -> RecordedEvent {
        let customer = "+1555123" + String(format: "%04d", i % 10_000)
        let text = "Your confirmation number is \(100_000 + i). Reply STOP to opt out."
        return RecordedEvent(
                position: UInt64(i + 1), stream: "conversation:c-\(i % 1000)", streamVersion: UInt64(i / 1000 + 1),
                timestamp: 1_796_000_000_000 + Int64(i), actor: Actor(uid: 1000, role: .frontend),
                idempotencyKey: IdempotencyKey(scope: "agent:a\(i % 50)", key: "k-\(i)"),
                event: .messageSent(MessageSent(
                    conversationId: "c-\(i % 1000)", messageId: "m-\(i)", agentId: "a\(i % 50)", from: "+15550100100",
                    to: customer, text: text,
                    attachments: [], encoding: .gsm7, characters: 60, units: 60, segments: 1, callId: nil
                ))
            )
    }

    private func measure(_ events: [RecordedEvent]) throws {
        var encodeRates: [Double] = [], decodeRates: [Double] = [], chainRates: [Double] = [], jsonDecodeRates: [Double] = []
        var stored: [[UInt8]] = []
        for _ in 0..<runs {
            var start = ContinuousClock.now
            let encoded = events.map { (event: RecordedEvent) in event.binaryEncoded }
            encodeRates.append(Double(count) / (ContinuousClock.now - start).seconds)
            start = ContinuousClock.now
            var checksum: UInt64 = 0
            for bytes in encoded { checksum &+= try RecordedEvent(decoding: bytes).position }
            decodeRates.append(Double(count) / (ContinuousClock.now - start).seconds)
            precondition(checksum > 0)
            start = ContinuousClock.now
            var previous = ChainHash.zero
            stored = events.map { event in
                let (value, hash) = StoredEvent.encode(event, after: previous)
                previous = hash
                return value
            }
            chainRates.append(Double(count) / (ContinuousClock.now - start).seconds)
        }
        let json = EventJSON()
        let lines = try events.prefix(count / 4).map { Data(try json.line($0).utf8) }
        for _ in 0..<runs {
            let start = ContinuousClock.now
            for line in lines { _ = try JSONDecoder().decode(JSONShape.self, from: line) }
            jsonDecodeRates.append(Double(lines.count) / (ContinuousClock.now - start).seconds)
        }
        func median(_ values: [Double]) -> Int { Int(values.sorted()[values.count / 2]) }
        print("events: \(count) MessageSent, \(stored.first?.count ?? 0) stored bytes each (JSON: \(lines.first?.count ?? 0) bytes)")
        print("binary encode:            \(median(encodeRates)) events/s")
        print("binary decode:            \(median(decodeRates)) events/s")
        print("encode + SHA-256 chain:   \(median(chainRates)) events/s")
        print("JSONDecoder (baseline):   \(median(jsonDecodeRates)) events/s")
        print("decode ratio binary/JSON: \(String(format: "%.1f", Double(median(decodeRates)) / Double(median(jsonDecodeRates))))x")
    }

    private struct JSONShape: Decodable {
        struct Data: Decodable {
            let conversationId, messageId, agentId, from, to, text, encoding: String
            let characters, units, segments: Int
        }
        let position: UInt64
        let stream: String
        let streamVersion: UInt64
        let type: String
        let timestamp: Int64
        let data: Data
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
