import Foundation
import TMTBase
import XCTest
@testable import TMTTrading

/// The volatility window keeps exactly the returns after each cutoff; its `Double` Σr² stays
/// within its stated error bound of the exact Σr² however returns come and go, and however its
/// storage drops the pruned prefix.
final class InstrumentWatchTests: XCTestCase {
    /// A return between two quotes around `level`, as the breaker makes it (Double move from the
    /// quotes' Double mids).
    private func move(_ time: Int64, from: QuotePair, to: QuotePair) -> InstrumentWatch.Return {
        func d(_ x: Decimal) -> Double { NSDecimalNumber(decimal: x).doubleValue }
        let a = (d(from.bid) + d(from.ask)) * 0.5, b = (d(to.bid) + d(to.ask)) * 0.5
        return .init(time: time, move: (b - a) * 100 / a, from: from, to: to)
    }

    private func quote(_ mid: UInt64, scale: Int16) -> QuotePair {
        let bid = Decimal(sign: .plus, exponent: -Int(scale), significand: Decimal(mid - 1))
        let ask = Decimal(sign: .plus, exponent: -Int(scale), significand: Decimal(mid + 1))
        return QuotePair(bid: bid, ask: ask)
    }

    func testWindowMatchesAPlainListAndTheDoubleSumStaysWithinItsBoundThroughManyPrunes() {
        var watch = InstrumentWatch()
        var reference: [InstrumentWatch.Return] = []
        var random = SeededRandom(seed: 42)
        var time: Int64 = 0
        // A price walking around 1.08000 (five decimals), with calm and wild stretches, so the
        // window's sum rises and falls by orders of magnitude.
        var price: UInt64 = 108_000
        var previous = quote(price, scale: 5)
        for step in 0..<20_000 {
            time += Int64(random.next() % 50)
            let wild = (step / 2_000) % 2 == 1
            let jump = random.next() % (wild ? 400 : 4)
            price = random.next() % 2 == 0 ? price + jump : max(1_000, price - jump)
            let next = quote(price, scale: 5)
            let r = move(time, from: previous, to: next)
            previous = next
            watch.add(r)
            reference.append(r)
            // Windows of varying length: sometimes nothing is pruned, sometimes everything.
            let cutoff = step % 997 == 0 ? time : time - Int64(random.next() % 3_000)
            watch.prune(before: cutoff)
            reference.removeAll { $0.time <= cutoff }
            // Summed afresh at any moment (as a figure about to be written may ask), not only
            // after a compaction: only the returns still in the window count.
            if step % 37 == 0 { watch.resum() } else if step % 11 == 0 { watch.refreshSum() }
            XCTAssertEqual(watch.returnCount, reference.count, "step \(step)")
            if step % 101 == 0 {
                XCTAssertEqual(Array(watch.returns), reference, "step \(step)")
                let exact = reference.reduce(Decimal(0)) { sum, r in
                    let m = r.exactMove
                    return sum + m * m
                }
                XCTAssertEqual(watch.exactSumSquares, exact, "step \(step)")
                let error = abs(watch.sumSquares - NSDecimalNumber(decimal: exact).doubleValue)
                XCTAssertLessThanOrEqual(error, watch.sumSquaresErrorBound, "step \(step): Σ \(watch.sumSquares) vs exact \(exact)")
            }
        }
    }

    func testEachReturnIsWithinItsOwnBoundOfTheExactOne() {
        var random = SeededRandom(seed: 7)
        for _ in 0..<5_000 {
            // Prices of 2 to 12 significant digits, moves from nothing to tens of percent.
            let scale = Int16(random.next() % 8)
            let base = 100 + random.next() % 100_000_000
            let from = quote(base, scale: scale)
            let to = quote(random.next() % 2 == 0 ? base + random.next() % (base / 3 + 1) : max(2, base - random.next() % (base / 3 + 1)), scale: scale)
            let r = move(0, from: from, to: to)
            let exact = NSDecimalNumber(decimal: r.exactMove).doubleValue
            XCTAssertLessThanOrEqual(abs(r.move - exact), 1e-11 + 1e-13 * abs(exact), "\(from) → \(to)")
            XCTAssertLessThanOrEqual(abs(r.squared - exact * exact), r.squaredErrorBound, "\(from) → \(to)")
        }
    }

    func testWatchesWithTheSameWindowAreEqualWhateverTheyStillStore() {
        let a = quote(100_000, scale: 5), b = quote(100_010, scale: 5)
        var long = InstrumentWatch(), short = InstrumentWatch()
        for t in 0..<100 { long.add(move(Int64(t), from: a, to: b)) }
        long.prune(before: 49)   // 50 left; the 50 pruned are still stored (too few to compact)
        for t in 50..<100 { short.add(move(Int64(t), from: a, to: b)) }
        XCTAssertEqual(long.returnCount, 50)
        XCTAssertEqual(long, short)
        short.add(move(100, from: a, to: b))
        XCTAssertNotEqual(long, short)
    }
}
