import Foundation
import XCTest
@testable import TMTTrading

final class WyckoffParametersTests: XCTestCase {
    func invalidField(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String? {
        do {
            try body()
            return nil
        } catch let e as WyckoffParameters.InvalidParameter {
            XCTAssertTrue(e.description.hasPrefix("wyckoff parameter \(e.field): "), e.description, file: file, line: line)
            return e.field
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }

    func testDefaultsAreValidAndPartialJSONKeepsTheOtherDefaults() throws {
        XCTAssertNoThrow(try WyckoffParameters().validate())
        let json = #"{"swingLookback": 4, "targetRule": "rangeOpposite", "signalOnSOS": true}"#
        let p = try JSONDecoder().decode(WyckoffParameters.self, from: Data(json.utf8))
        XCTAssertEqual(p.swingLookback, 4)
        XCTAssertEqual(p.targetRule, .rangeOpposite)
        XCTAssertTrue(p.signalOnSOS)
        XCTAssertEqual(p.atrPeriod, 14)
        XCTAssertEqual(p.toleranceATR, 0.25)
        let again = try JSONDecoder().decode(WyckoffParameters.self, from: JSONEncoder().encode(p))
        XCTAssertEqual(again, p)
    }

    func testValidateNamesTheBadField() {
        let cases: [(String, (inout WyckoffParameters) -> Void)] = [
            ("swingLookback", { $0.swingLookback = 0 }),
            ("atrPeriod", { $0.atrPeriod = 1 }),
            ("rangeWindow", { $0.rangeWindow = 13 }),          // needs 4 × 3 + 2 = 14 bars for two pivots
            ("minTouches", { $0.minTouches = 1 }),
            ("toleranceATR", { $0.toleranceATR = 0 }),
            ("toleranceATR", { $0.toleranceATR = .nan }),
            ("maxRangeHeightATR", { $0.maxRangeHeightATR = 1.5 }), // not above minRangeHeightATR 2
            ("springVolumeRatio", { $0.springVolumeRatio = -1 }),
            ("springMaxBars", { $0.springMaxBars = 0 }),
            ("lpsMaxBars", { $0.lpsMaxBars = 4 }),               // needs 2 × 2 + 1 = 5
            ("historyBars", { $0.historyBars = 89 }),            // needs rangeWindow 60 + priorTrendBars 30
            ("minConfidence", { $0.minConfidence = 1.5 }),
            ("cooldownBars", { $0.cooldownBars = -1 }),
            ("timeframeSeconds", { $0.timeframeSeconds = 0 }),
        ]
        for (field, mutate) in cases {
            var p = WyckoffParameters()
            mutate(&p)
            XCTAssertEqual(invalidField { try p.validate() }, field)
        }
    }

    func testApplyingUpdatesChangesNamedFields() throws {
        let p = try WyckoffParameters().applying(updates: [
            "swingLookback": "4", "toleranceATR": " 0.3 ", "signalOnSOS": "true", "targetRule": "rangeOpposite", "cooldownBars": "0",
        ])
        XCTAssertEqual(p.swingLookback, 4)
        XCTAssertEqual(p.toleranceATR, 0.3)
        XCTAssertTrue(p.signalOnSOS)
        XCTAssertEqual(p.targetRule, .rangeOpposite)
        XCTAssertEqual(p.cooldownBars, 0)
        var expected = WyckoffParameters()
        expected.swingLookback = 4
        expected.toleranceATR = 0.3
        expected.signalOnSOS = true
        expected.targetRule = .rangeOpposite
        expected.cooldownBars = 0
        XCTAssertEqual(p, expected, "nothing else changed")
        // Every field of the JSON form can be named.
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(WyckoffParameters())) as? [String: Any]
        XCTAssertEqual(WyckoffParameters.fieldNames, object?.keys.sorted())
        XCTAssertEqual(try WyckoffParameters().applying(updates: [:]), WyckoffParameters())
    }

    func testApplyingUpdatesRejectsUnknownNamesAndBadValuesNamingTheField() {
        let p = WyckoffParameters()
        XCTAssertEqual(invalidField { _ = try p.applying(updates: ["swingLookbak": "4"]) }, "swingLookbak")
        XCTAssertEqual(invalidField { _ = try p.applying(updates: ["swingLookback": "three"]) }, "swingLookback")
        XCTAssertEqual(invalidField { _ = try p.applying(updates: ["toleranceATR": "inf"]) }, "toleranceATR")
        XCTAssertEqual(invalidField { _ = try p.applying(updates: ["signalOnSOS": "maybe"]) }, "signalOnSOS")
        XCTAssertEqual(invalidField { _ = try p.applying(updates: ["targetRule": "moon"]) }, "targetRule")
        // Parsable but out of range: validation names it.
        XCTAssertEqual(invalidField { _ = try p.applying(updates: ["minConfidence": "1.5", "swingLookback": "4"]) }, "minConfidence")
        do {
            _ = try p.applying(updates: ["targetRule": "moon"])
            XCTFail("accepted targetRule moon")
        } catch {
            XCTAssertEqual("\(error)", "wyckoff parameter targetRule: expected one of rangeOpposite, measuredMove, got 'moon'")
        }
    }
}
