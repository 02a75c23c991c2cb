import ParleyServer
import Testing

/// Line framing's rules without NIO (`LineFraming`, which `LineFrameDecoder` applies).
@Suite("Line framing")
struct LineFramingTests {
    @Test("lines end at \\n, one \\r before it is dropped, a partial line waits, the end of input passes on a last line")
    func lines() {
        var framing = LineFraming(maxLineBytes: 8)
        var held = Array("ab\r\ncd\nef".utf8)
        #expect(framing.step(held) == .line(Array("ab".utf8), consumed: 4))
        held.removeFirst(4)
        #expect(framing.step(held) == .line(Array("cd".utf8), consumed: 3))
        held.removeFirst(3)
        #expect(framing.step(held) == .needMoreData)
        held += Array("g\r".utf8)
        #expect(framing.step(held) == .needMoreData)
        #expect(framing.finish(held) == .line(Array("efg".utf8), consumed: 4))
    }

    @Test("a line over the limit is refused once, whether or not its newline has come, and everything after it is discarded")
    func tooLong() {
        var ended = LineFraming(maxLineBytes: 4)
        #expect(ended.step(Array("12345\nok\n".utf8)) == .tooLong)
        #expect(ended.discarding)
        #expect(ended.step(Array("ok\n".utf8)) == .needMoreData)
        #expect(ended.finish(Array("ok".utf8)) == nil)

        // Without its newline: refused as soon as more than the limit and a "\r" are held.
        var open = LineFraming(maxLineBytes: 4)
        #expect(open.step(Array("1234\r".utf8)) == .needMoreData)
        #expect(open.step(Array("1234\r5".utf8)) == .tooLong)

        // Exactly the limit, with "\r\n" or at the end of input: passed on.
        var exact = LineFraming(maxLineBytes: 4)
        #expect(exact.step(Array("1234\r\n".utf8)) == .line(Array("1234".utf8), consumed: 6))
        #expect(exact.finish(Array("1234\r".utf8)) == .line(Array("1234".utf8), consumed: 5))
        #expect(exact.finish(Array("12345".utf8)) == .tooLong)
    }
}
