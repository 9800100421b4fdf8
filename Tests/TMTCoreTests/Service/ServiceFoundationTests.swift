import Foundation
import XCTest

/// The services link FoundationEssentials, not Foundation: loading Foundation and its ICU library
/// made each of the nine ~7 MB bigger (resident), which the memory goal cannot afford. One
/// `import Foundation` anywhere in a service's modules brings it back, silently; this fails first.
final class ServiceFoundationTests: XCTestCase {
    /// The service executables and every library module they link. The testing tools, the data
    /// generator, the migrator and the benchmarks may use Foundation.
    static let serviceModules = ["TMTBase", "TMTModels", "TMTMetrics", "TMTHTTP", "TMTKafka", "TMTPostgres", "TMTRedis", "TMTCore",
                                 "TMTPipeline", "TMTTrading", "TMTAPIGateway", "TMTAntiCorrelation", "TMTAriaRisk", "TMTCircuitBreaker",
                                 "TMTComplianceEngine", "TMTContinuousImprovement", "TMTExecutionEngine", "TMTHumanBehavior",
                                 "TMTWyckoffAnalysis"]
    static let executables = ["tmt-wyckoff-analysis", "tmt-aria-risk", "tmt-compliance-engine", "tmt-anti-correlation", "tmt-human-behavior",
                              "tmt-circuit-breaker", "tmt-execution-engine", "tmt-continuous-improvement", "tmt-api-gateway"]

    private var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    func testNoServiceModuleImportsFoundation() throws {
        var offenders: [String] = []
        var scanned = 0
        for module in Self.serviceModules {
            let folder = root.appendingPathComponent("Sources/\(module)")
            let files = try XCTUnwrap(FileManager.default.enumerator(atPath: folder.path), module).compactMap { $0 as? String }
                .filter { $0.hasSuffix(".swift") }
            XCTAssertFalse(files.isEmpty, "no sources in \(module)")
            for file in files {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                scanned += 1
                for line in text.split(separator: "\n") {
                    let l = line.trimmingCharacters(in: .whitespaces)
                    if l == "import Foundation" || l.hasPrefix("import Foundation ") || l.hasPrefix("@_exported import Foundation ")
                        || l == "@_exported import Foundation" || l.hasPrefix("import FoundationNetworking") || l.hasPrefix("import FoundationInternationalization") {
                        offenders.append("Sources/\(module)/\(file): \(l)")
                    }
                }
            }
        }
        XCTAssertGreaterThan(scanned, 200)
        XCTAssertEqual(offenders, [], "service modules must import TMTBase (FoundationEssentials), not Foundation")
    }

    /// The built services (debug, as the tests run them) need no Foundation library.
    func testBuiltServicesLinkOnlyFoundationEssentials() throws {
        let bin = root.appendingPathComponent(".build/debug")
        var checked = 0
        for name in Self.executables {
            let path = bin.appendingPathComponent(name).path
            guard FileManager.default.isExecutableFile(atPath: path) else { continue }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["readelf", "-d", path]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            try XCTSkipIf(p.terminationStatus != 0 && checked == 0, "readelf is not available")
            let needed = text.split(separator: "\n").filter { $0.contains("(NEEDED)") }
            XCTAssertTrue(needed.contains { $0.contains("libFoundationEssentials.so") }, "\(name): \(needed)")
            XCTAssertFalse(needed.contains { $0.contains("[libFoundation.so]") || $0.contains("FoundationInternationalization") || $0.contains("ICU") },
                           "\(name) links the full Foundation: \(needed.joined(separator: "; "))")
            checked += 1
        }
        try XCTSkipIf(checked == 0, "the services are not built in .build/debug")
    }
}
