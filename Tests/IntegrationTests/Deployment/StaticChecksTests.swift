import Foundation
import XCTest

/// The Docker path cannot run here, so it is checked with the tools its users' CI would use:
/// shellcheck on every shell script, hadolint on the Dockerfile, actionlint on the workflow,
/// yamllint on the YAML (config .yamllint.yml). Each must pass clean (exceptions are one-line
/// comments in the checked file, saying why).
final class StaticChecksTests: XCTestCase {
    /// Every shell script of the repository: `*.sh`, and files starting with a bash shebang in
    /// scripts/, deployment/ and .ci/.
    static func shellScripts() throws -> [String] {
        let root = TestServices.repoRoot
        var scripts: [String] = []
        for folder in ["scripts", "deployment", ".ci"] {
            guard let walker = FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: [.isRegularFileKey])
            else { continue }
            for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                let head = (try? FileHandle(forReadingFrom: url).readData(ofLength: 64)).map { String(decoding: $0, as: UTF8.self) } ?? ""
                if url.pathExtension == "sh" || head.hasPrefix("#!/usr/bin/env bash") || head.hasPrefix("#!/bin/bash") || head.hasPrefix("#!/bin/sh") {
                    scripts.append(String(url.path.dropFirst(root.path.count + 1)))
                }
            }
        }
        return scripts.sorted()
    }

    func testEveryShellScriptPassesShellcheck() throws {
        let scripts = try Self.shellScripts()
        XCTAssertTrue(scripts.contains("scripts/stack.sh") && scripts.contains(".ci/run"), "\(scripts)")
        let r = try Tool.run("shellcheck", ["--external-sources"] + scripts)
        XCTAssertEqual(r.status, 0, r.output)
    }

    func testDockerfilePassesHadolint() throws {
        let r = try Tool.run("hadolint", ["--no-color", "deployment/staging/Dockerfile"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertEqual(r.output.trimmingCharacters(in: .whitespacesAndNewlines), "", "findings: \(r.output)")
    }

    func testWorkflowPassesActionlint() throws {
        let r = try Tool.run("actionlint", ["-no-color", ".github/workflows/deploy-staging.yml"])
        XCTAssertEqual(r.status, 0, r.output)
    }

    func testYAMLPassesYamllint() throws {
        let r = try Tool.run("yamllint", ["-c", ".yamllint.yml", "--format", "parsable", "--strict", "."])
        XCTAssertEqual(r.status, 0, r.output)
    }
}
