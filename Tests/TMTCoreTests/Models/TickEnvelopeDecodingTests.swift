import Foundation
import XCTest
@testable import TMTModels

/// The direct tick-envelope reader gives exactly what JSONDecoder gives, and leaves everything
/// it does not fully understand to it.
final class TickEnvelopeDecodingTests: XCTestCase {
    private func reference(_ bytes: [UInt8]) -> Envelope<Tick>? {
        try? JSONDecoder().decode(Envelope<Tick>.self, from: Data(bytes))
    }

    private func assertSame(_ a: Envelope<Tick>?, _ b: Envelope<Tick>?, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a?.id, b?.id, text, file: file, line: line)
        XCTAssertEqual(a?.type, b?.type, text, file: file, line: line)
        XCTAssertEqual(a?.schemaVersion, b?.schemaVersion, text, file: file, line: line)
        XCTAssertEqual(a?.traceId, b?.traceId, text, file: file, line: line)
        XCTAssertEqual(a?.createdAt, b?.createdAt, text, file: file, line: line)
        XCTAssertEqual(a?.source, b?.source, text, file: file, line: line)
        XCTAssertEqual(a?.hops, b?.hops, text, file: file, line: line)
        XCTAssertEqual(a?.payload, b?.payload, text, file: file, line: line)
        XCTAssertEqual(a?.payload.bid.description, b?.payload.bid.description, text, file: file, line: line)
    }

    func testEncodedTicksReadTheSameAsWithJSONDecoder() throws {
        var rng = SystemRandomNumberGenerator()
        for n in 0..<2_000 {
            let scale = Int.random(in: 0...6, using: &rng)
            func price() -> Decimal {
                Decimal(sign: .plus, exponent: -scale, significand: Decimal(UInt64.random(in: 0...9_999_999_999, using: &rng)))
            }
            let hops = (0..<Int.random(in: 0...3, using: &rng)).map { k in
                Hop(agent: "agent-\(k) é", inMicros: Int64.random(in: -5...Int64.max / 2, using: &rng), outMicros: Int64.random(in: 0...Int64.max, using: &rng))
            }
            let tick = Tick(instrument: ["EUR_USD", "US30", "XAU_USD"][n % 3], bid: price(), ask: price(),
                            volume: Decimal(sign: .plus, exponent: 0, significand: Decimal(UInt64.random(in: 0...1_000_000, using: &rng))),
                            time: Int64.random(in: Int64.min / 2...Int64.max, using: &rng))
            let envelope = Envelope(id: "\(tick.instrument)-\(n)", type: "market.tick", schemaVersion: Int.random(in: 1...3, using: &rng),
                                    traceId: "trace-\(n)", createdAt: Int64.random(in: 0...Int64.max, using: &rng), source: "gen/erator",
                                    hops: hops, payload: tick)
            let bytes = try EnvelopeCoding.encode(envelope)
            let fast = try XCTUnwrap(TickEnvelopeDecoding.decode(bytes), String(decoding: bytes, as: UTF8.self))
            assertSame(fast, reference(bytes), String(decoding: bytes, as: UTF8.self))
        }
    }

    func testOtherSpellingsAreLeftToJSONDecoder() throws {
        let base = #"{"createdAt":1,"hops":[],"id":"a","payload":{"ask":"ASK","bid":1.5,"instrument":"EUR_USD","time":7,"volume":10},"schemaVersion":1,"source":"s","traceId":"t","type":"market.tick"}"#
        let ok = base.replacingOccurrences(of: "\"ASK\"", with: "1.6")
        // Whitespace and member order are fine on the fast path.
        let spaced = #"{ "type" : "market.tick", "payload" : { "time" : 7 , "volume" : 10, "instrument":"EUR_USD","bid":1.5,"ask":1.6 },"#
            + #" "id":"a","hops":[ { "out":3,"in":2,"agent":"x" } ],"traceId":"t","source":"s","schemaVersion":1,"createdAt":1 }"#
        for text in [ok, spaced] {
            let bytes = Array(text.utf8)
            assertSame(TickEnvelopeDecoding.decode(bytes), reference(bytes), text)
            XCTAssertNotNil(TickEnvelopeDecoding.decode(bytes), text)
            // Through EnvelopeCoding (the fast path's envelope returned as Envelope<Tick>).
            assertSame(try EnvelopeCoding.decode(Tick.self, from: bytes), reference(bytes), text)
        }
        let unusual = [
            base,                                                        // a string where a number belongs
            ok.replacingOccurrences(of: "\"id\":\"a\"", with: #""id":"a\"b""#),   // an escape
            ok.replacingOccurrences(of: "1.6", with: "1.6e0"),           // an exponent
            ok.replacingOccurrences(of: "1.6", with: "01.6"),            // a leading zero
            ok.replacingOccurrences(of: "\"type\"", with: "\"extra\":1,\"type\""),  // an unknown member
            ok.replacingOccurrences(of: "\"id\":\"a\",", with: ""),      // a missing member
            ok.replacingOccurrences(of: "\"id\":\"a\"", with: #""id":"a","id":"b""#), // a duplicate
            ok + " x",                                                   // trailing bytes
            String(ok.dropLast()),                                       // truncated
            ok.replacingOccurrences(of: "\"time\":7", with: "\"time\":99999999999999999999"), // out of range
            ok.replacingOccurrences(of: "\"time\":7", with: "\"time\":7.0"),
        ]
        for text in unusual {
            XCTAssertNil(TickEnvelopeDecoding.decode(Array(text.utf8)), text)
        }
        // A cut-off 4-byte UTF-8 sequence in a string (repaired to one U+FFFD of the same length).
        var invalid = Array(ok.utf8)
        let at = try XCTUnwrap(invalid.firstIndex(of: UInt8(ascii: "a")))
        invalid.replaceSubrange(at...at, with: [0xF0, 0x90, 0x80])
        XCTAssertNil(TickEnvelopeDecoding.decode(invalid))
        XCTAssertNil(reference(invalid), "JSONDecoder refuses it too")
        // Through EnvelopeCoding the unusual ones decode as JSONDecoder decides (value or error).
        for text in unusual {
            let bytes = Array(text.utf8)
            let viaCoding = try? EnvelopeCoding.decode(Tick.self, from: bytes)
            assertSame(viaCoding, reference(bytes), text)
        }
        XCTAssertThrowsError(try EnvelopeCoding.decode(Tick.self, from: Array(base.utf8))) {
            XCTAssertTrue("\($0)".contains("payload.ask"), "\($0)")
        }
    }
}

/// `Tick.mid` multiplies by 0.5 instead of dividing by 2: the same value and text.
final class TickMidTests: XCTestCase {
    func testMidIsExactlyHalfTheSumWithTheSameText() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {   // SplitMix64: the same values every run
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        for _ in 0..<20_000 {
            let places = Int(next() % 9)
            let bid = Decimal(sign: .plus, exponent: -places, significand: Decimal(next() % 10_000_000_000))
            let ask = bid + Decimal(sign: .plus, exponent: -places, significand: Decimal(next() % 1000))
            let tick = Tick(instrument: "EUR_USD", bid: bid, ask: ask, volume: 1, time: 1)
            let divided = (bid + ask) / 2
            XCTAssertEqual(tick.mid, divided, "\(bid) \(ask)")
            XCTAssertEqual(tick.mid.description, divided.description, "\(bid) \(ask)")
        }
        XCTAssertEqual(Tick(instrument: "X", bid: 1, ask: 2, volume: 1, time: 1).mid.description, "1.5")
        XCTAssertEqual(Tick(instrument: "X", bid: 0, ask: 0, volume: 1, time: 1).mid, 0)
    }
}
