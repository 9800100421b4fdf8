import Foundation
import XCTest
@testable import TMTTrading

/// The volatility window keeps exactly the returns after each cutoff and their exact Σr², however
/// its storage drops the pruned prefix.
final class InstrumentWatchTests: XCTestCase {
    func testWindowMatchesAPlainListThroughManyPrunes() {
        var watch = InstrumentWatch()
        var reference: [InstrumentWatch.Return] = []
        var state: UInt64 = 42
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        var time: Int64 = 0
        for step in 0..<20_000 {
            time += Int64(next() % 50)
            let r = InstrumentWatch.Return(time: time, squared: Decimal(sign: .plus, exponent: -6, significand: Decimal(next() % 10_000)))
            watch.add(r)
            reference.append(r)
            // Windows of varying length: sometimes nothing is pruned, sometimes everything.
            let cutoff = step % 997 == 0 ? time : time - Int64(next() % 3_000)
            watch.prune(before: cutoff)
            reference.removeAll { $0.time <= cutoff }
            XCTAssertEqual(watch.returnCount, reference.count, "step \(step)")
            if step % 101 == 0 {
                XCTAssertEqual(Array(watch.returns), reference, "step \(step)")
                XCTAssertEqual(watch.sumSquares, reference.reduce(Decimal(0)) { $0 + $1.squared }, "step \(step)")
            }
        }
        XCTAssertEqual(watch.sumSquares, reference.reduce(Decimal(0)) { $0 + $1.squared })
    }

    func testWatchesWithTheSameWindowAreEqualWhateverTheyStillStore() {
        var long = InstrumentWatch(), short = InstrumentWatch()
        for t in 0..<100 { long.add(.init(time: Int64(t), squared: 1)) }
        long.prune(before: 49)   // 50 left; the 50 pruned are still stored (too few to compact)
        for t in 50..<100 { short.add(.init(time: Int64(t), squared: 1)) }
        XCTAssertEqual(long.returnCount, 50)
        XCTAssertEqual(long, short)
        short.add(.init(time: 100, squared: 1))
        XCTAssertNotEqual(long, short)
    }
}
