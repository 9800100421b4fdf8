import XCTest
@testable import TMTBase

final class YAMLReaderTests: XCTestCase {
    func testParsesNestedMappingsSequencesScalarsAndComments() throws {
        let text = """
        # firms for the compliance engine
        ---
        mode: strict   # or lenient
        firms:
          ftmo:
            daily_loss_percent: 5
            name: "FTMO-like #1"
            timezone: 'Europe/Prague'
            empty:
            rules:
              - max_lots
              - 'stop_loss_required'
          funded:
            accounts:
              - id: acc-1
                balance: 100000.50
              - id: acc-2
                balance: 50000
        instruments:
        - EUR_USD
        - USD_JPY
        """
        let doc = try YAMLReader.parse(text, file: "compliance.yml")
        XCTAssertEqual(doc["mode"]?.string, "strict")
        let ftmo = try XCTUnwrap(doc["firms"]?["ftmo"])
        XCTAssertEqual(ftmo["daily_loss_percent"]?.string, "5")
        XCTAssertEqual(ftmo["name"]?.string, "FTMO-like #1")
        XCTAssertEqual(ftmo["timezone"]?.string, "Europe/Prague")
        XCTAssertNil(ftmo["empty"]?.string)
        XCTAssertNotNil(ftmo["empty"])
        XCTAssertEqual(ftmo["rules"]?.items.compactMap(\.string), ["max_lots", "stop_loss_required"])
        let accounts = try XCTUnwrap(doc["firms"]?["funded"]?["accounts"]?.items)
        XCTAssertEqual(accounts.count, 2)
        XCTAssertEqual(accounts[0]["id"]?.string, "acc-1")
        XCTAssertEqual(accounts[0]["balance"]?.string, "100000.50")
        XCTAssertEqual(accounts[1]["balance"]?.string, "50000")
        XCTAssertEqual(doc["instruments"]?.items.compactMap(\.string), ["EUR_USD", "USD_JPY"])
        XCTAssertEqual(doc["instruments"]?.line, 20)
    }

    func testQuotedStringsKeepSpecialCharacters() throws {
        let doc = try YAMLReader.parse("""
        a: "x: y # not a comment"
        b: 'it''s'
        c: "tab\\tnew\\nline"
        d: value#notcomment
        """)
        XCTAssertEqual(doc["a"]?.string, "x: y # not a comment")
        XCTAssertEqual(doc["b"]?.string, "it's")
        XCTAssertEqual(doc["c"]?.string, "tab\tnew\nline")
        XCTAssertEqual(doc["d"]?.string, "value#notcomment")
    }

    func testEmptyDocumentIsAnEmptyMapping() throws {
        XCTAssertEqual(try YAMLReader.parse("# nothing\n\n"), .mapping([], line: 1))
    }

    /// Each unsupported construct is an error naming file, line and key.
    func testUnsupportedConstructsNameFileLineAndKey() {
        let cases: [(String, Int, String, String)] = [
            ("a:\n  b: [1, 2]\n", 2, "a.b", "flow collections"),
            ("a:\n  b: {x: 1}\n", 2, "a.b", "flow collections"),
            ("base: &anchor 1\n", 1, "base", "anchors"),
            ("x: *anchor\n", 1, "x", "anchors and aliases"),
            ("t: !!str 5\n", 1, "t", "tags"),
            ("text: |\n  line\n", 1, "text", "block scalars"),
            ("text: >\n  folded\n", 1, "text", "block scalars"),
            ("a: 1\na: 2\n", 2, "a", "duplicate key"),
            ("a:\n\tb: 1\n", 2, "", "tab in indentation"),
            ("a: 1\n---\nb: 2\n", 2, "", "multiple documents"),
            ("firms:\n  x: 1\n    y: 2\n", 3, "firms.x", "unexpected indentation"),
            ("list:\n  - a\n  b: 1\n", 3, "list", "mapping key"),
            ("a: b: c\n", 1, "a", "mapping on the same line"),
            ("a: \"unterminated\n", 1, "a", "unterminated"),
            ("? complex\n", 1, "", "complex mapping keys"),
            ("<<: x\n", 1, "<<", "merge keys"),
            ("just text\n", 1, "", "expected 'key: value'"),
        ]
        for (text, line, key, fragment) in cases {
            XCTAssertThrowsError(try YAMLReader.parse(text, file: "config/x.yml"), text) { error in
                guard let e = error as? YAMLError else { return XCTFail("not a YAMLError: \(error)") }
                XCTAssertEqual(e.file, "config/x.yml", text)
                XCTAssertEqual(e.line, line, text)
                XCTAssertEqual(e.key, key, text)
                XCTAssertTrue(e.message.contains(fragment), "\(text): \(e.message)")
                XCTAssertTrue(e.description.hasPrefix("config/x.yml:\(line):"), e.description)
            }
        }
    }

    func testConfigNodeTypedAccessAndUnknownKeys() throws {
        let node = ConfigNode(file: "risk.yml", node: try YAMLReader.parse("""
        risk:
          percent: 1.5
          max_lots: 10
          enabled: yes
          typo_key: 1
        """, file: "risk.yml"))
        let risk = try node.require("risk")
        XCTAssertEqual(try risk.double("percent"), 1.5)
        XCTAssertEqual(try risk.int("max_lots"), 10)
        XCTAssertEqual(try risk.decimal("percent"), Decimal(string: "1.5"))
        XCTAssertTrue(try risk.bool("enabled"))
        XCTAssertEqual(try risk.int("missing", default: 7), 7)
        XCTAssertThrowsError(try risk.allowOnly(["percent", "max_lots", "enabled"])) { error in
            XCTAssertEqual((error as? YAMLError)?.description.hasPrefix("risk.yml:5: key 'risk.typo_key': unknown key"), true, "\(error)")
        }
        XCTAssertThrowsError(try risk.int("percent")) { error in
            XCTAssertEqual("\(error)", "risk.yml:2: key 'risk.percent': expected an integer, got '1.5'")
        }
        XCTAssertThrowsError(try risk.string("absent")) { error in
            XCTAssertEqual((error as? YAMLError)?.key, "risk.absent")
        }
    }

    func testEnvironmentRejectsMalformedValuesNamingTheVariable() throws {
        let env = Environment(["RISK_MULTIPLIER": "abc", "PAPER_TRADING": "maybe", "PORT": "8004", "SECRET_FILE": "/nonexistent/x"])
        XCTAssertThrowsError(try env.double("RISK_MULTIPLIER", default: 1)) { error in
            XCTAssertEqual("\(error)", "configuration: environment variable RISK_MULTIPLIER: expected a number, got 'abc'")
        }
        XCTAssertThrowsError(try env.bool("PAPER_TRADING", default: true)) { error in
            XCTAssertTrue("\(error)".contains("PAPER_TRADING"))
        }
        XCTAssertEqual(try env.int("PORT", default: 1), 8004)
        XCTAssertThrowsError(try env.int("PORT", default: 1, range: 1...1024))
        XCTAssertEqual(try env.int("ABSENT", default: 3), 3)
        XCTAssertThrowsError(try env.require("ABSENT"))
        XCTAssertThrowsError(try env.secret("SECRET"))
    }
}
