import Foundation

/// Runs Prometheus's `promtool` (Debian package `prometheus`).
enum Promtool {
    /// `promtool check metrics` on `exposition`: exit status and everything it printed.
    static func checkMetrics(_ exposition: String) throws -> (status: Int32, output: String) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") else {
            throw TestServices.NotRunning(description: "promtool is not installed: run scripts/install-deps.sh")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        p.arguments = ["check", "metrics"]
        let stdin = Pipe(), out = Pipe()
        p.standardInput = stdin
        p.standardOutput = out
        p.standardError = out
        try p.run()
        stdin.fileHandleForWriting.write(Data(exposition.utf8))
        try stdin.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
