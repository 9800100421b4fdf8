import Foundation
import XCTest
import TMTCore

/// `JSONWriter` and `DecimalText` write what `HTTPJSON.encoder` would, byte for byte.
final class JSONWriterTests: XCTestCase {
    struct Inner: Encodable {
        var amount: Decimal
        var label: String
    }

    struct Sample: Encodable {
        var at: Date
        var inner: Inner?
        var items: [Inner]
        var missing: String?
        var name: String
        var price: Decimal
    }

    func write(_ s: Sample) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.member("at", s.at)
        if let inner = s.inner {
            w.key("inner")
            w.beginObject(); w.member("amount", inner.amount); w.member("label", inner.label); w.endObject()
        }
        w.key("items")
        w.beginArray()
        for i in s.items { w.beginObject(); w.member("amount", i.amount); w.member("label", i.label); w.endObject() }
        w.endArray()
        w.memberIfPresent("missing", s.missing)
        w.member("name", s.name)
        w.member("price", s.price)
        w.endObject()
        return w.bytes
    }

    func testSameBytesAsTheEncoder() throws {
        let samples = [
            Sample(at: Date(timeIntervalSince1970: 1_764_000_000.123), inner: Inner(amount: Decimal(string: "-0.0005")!, label: "a\"b\\c/d\n\u{01}é"),
                   items: [], missing: nil, name: "", price: Decimal(string: "1.08512")!),
            Sample(at: Date(timeIntervalSince1970: 0), inner: nil,
                   items: [Inner(amount: 100, label: "x"), Inner(amount: Decimal(string: "12345678901234567890.5")!, label: "y")],
                   missing: "here", name: "EUR_USD", price: Decimal(1) / Decimal(3)),
        ]
        for s in samples {
            XCTAssertEqual(String(decoding: write(s), as: UTF8.self), String(decoding: try HTTPJSON.encode(s), as: UTF8.self))
        }
    }

    func testDecimalTextIsDescription() {
        var rng = SystemRandomNumberGenerator()
        var cases: [Decimal] = [0, 1, -1, .nan, Decimal(UInt64.max), Decimal(UInt64.max) + 1, Decimal(string: "1e3")!, Decimal(string: "0.001")!,
                                Decimal(string: "1234.5")! * 100, Decimal(string: "1.10")! - Decimal(string: "1.00")!,
                                Decimal(string: "123456789012345678901234.5")!,
                                Decimal(string: "99999999999999999999999999999999999999")!, Decimal(string: "10000000000000000000")!,
                                Decimal(string: "-0.00000000000000000000000000000000000001")!, Decimal(2) / Decimal(3) * Decimal(1_000_000),
                                (Decimal(1) / Decimal(7)) * (Decimal(1) / Decimal(7)), Decimal(UInt64.max) * Decimal(UInt64.max)]
        for _ in 0..<20_000 {
            let m = Int64.random(in: -999_999_999_999...999_999_999_999, using: &rng)
            var d = Decimal(sign: m < 0 ? .minus : .plus, exponent: Int.random(in: -12...6, using: &rng), significand: Decimal(m.magnitude))
            if Bool.random(using: &rng) { d /= Decimal(Int.random(in: 1...9, using: &rng)) }
            if Int.random(in: 0..<4, using: &rng) == 0 { d *= d }
            if Bool.random(using: &rng) {
                var x = d
                NSDecimalRound(&d, &x, Int.random(in: 0...6, using: &rng), .plain)
            }
            cases.append(d)
        }
        for d in cases { XCTAssertEqual(DecimalText.format(d), d.description) }
    }

    func testLockedSerialisesUpdates() {
        let counter = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<10_000 { counter.withLock { $0 += 1 } }
        }
        XCTAssertEqual(counter.withLock { $0 }, 80_000)
    }
}

extension JSONWriterTests {
    func testHundredthIsExactDivisionByOneHundred() {
        var rng = SystemRandomNumberGenerator()
        var cases: [Decimal] = [0, 1, -1, 5, 100_000, Decimal(string: "0.0001")!, Decimal(1) / Decimal(3), .nan]
        for _ in 0..<5_000 {
            let m = Int64.random(in: -9_999_999_999...9_999_999_999, using: &rng)
            cases.append(Decimal(sign: m < 0 ? .minus : .plus, exponent: Int.random(in: -8...4, using: &rng), significand: Decimal(m.magnitude)))
        }
        for d in cases where !d.isNaN {
            XCTAssertEqual(d.hundredth, d / 100, d.description)
            XCTAssertEqual(d.hundredth.description, (d / 100).description)
        }
        XCTAssertTrue(Decimal.nan.hundredth.isNaN)
    }
}
