import Foundation
import XCTest

/// Runs a command-line tool (found on PATH, /usr/local/bin included) and collects its output.
enum Tool {
    struct Result {
        var status: Int32
        var output: String
    }

    /// The tool's path, nil when it is not installed.
    static func path(_ name: String) -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/bin"]
        return dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `name` with `arguments` in `directory` (default the repository root), `input` on
    /// stdin; stdout and stderr together. Throws when the tool is not installed.
    static func run(_ name: String, _ arguments: [String], in directory: URL = TestServices.repoRoot, input: String? = nil,
                    environment: [String: String] = [:]) throws -> Result {
        guard let path = name.hasPrefix("/") ? name : path(name) else {
            throw TestServices.NotRunning(description: "\(name) is not installed: run scripts/install-deps.sh")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        p.currentDirectoryURL = directory
        // (The tests' stacks run on one Kafka cluster: a caller's exported market-data cluster stays out.)
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KAFKA_MARKET_") }
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), stdin = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try p.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// YAML text as JSON objects, by Debian's PyYAML (a dependency of docker-compose): the
    /// project's own YAML reader handles the configuration subset only.
    static func yamlAsJSON(_ yaml: String) throws -> Any {
        let r = try run("/usr/bin/python3", ["-c", "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"], input: yaml)
        guard r.status == 0 else { throw TestServices.NotRunning(description: "PyYAML failed: \(r.output)") }
        return try JSONSerialization.jsonObject(with: Data(r.output.utf8))
    }
}
