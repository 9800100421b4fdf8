import Foundation
import XCTest
@testable import TMTModels
@testable import TMTTrading

final class TickFileReaderTests: XCTestCase {
    func testJSONLinesAndCSVWithISOTimes() throws {
        let jsonl = """
        {"instrument":"EUR_USD","bid":1.0841,"ask":1.0842,"volume":100000,"time":1795590000000000}
        # comment

        {"instrument":"XAU_USD","bid":2351.1,"ask":2351.35,"volume":10,"time":1795590000001000}
        """
        let a = try TickFileReader(format: .jsonl).parse(jsonl)
        XCTAssertEqual(a.map(\.instrument), ["EUR_USD", "XAU_USD"])
        XCTAssertEqual(a[1].ask, Decimal(string: "2351.35"))
        let csv = "volume,instrument,time,bid,ask\n5,USD_JPY,2026-11-25T07:00:00.250Z,149.5,149.51\n"
        let b = try TickFileReader(path: "x.CSV").parse(csv)
        XCTAssertEqual(b.first?.time, 1_795_590_000_250_000)
        XCTAssertEqual(b.first?.volume, 5)
    }

    func testErrorsNameTheLine() {
        XCTAssertThrowsError(try TickFileReader(format: .csv).parse("instrument,time,bid\n")) {
            XCTAssertEqual("\($0)", "line 1: expected the header instrument,time,bid,ask,volume")
        }
        XCTAssertThrowsError(try TickFileReader(format: .csv).parse("instrument,time,bid,ask,volume\nEUR_USD,1,1.2,1.1,5\n")) {
            XCTAssertEqual("\($0)", "line 2: ask 1.1 is below bid 1.2")
        }
        XCTAssertThrowsError(try TickFileReader(format: .jsonl).parse("{\"instrument\":\"EUR_USD\"}\n")) {
            XCTAssertTrue("\($0)".hasPrefix("line 1: not a tick JSON object (missing field"), "\($0)")
        }
    }
}
