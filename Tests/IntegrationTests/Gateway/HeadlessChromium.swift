import Foundation
import TMTCore
import XCTest

/// Debian's Chromium, headless, driven over the DevTools protocol by `DevToolsPage`.
///
/// Started with `--remote-debugging-port=0` and a throw-away `--user-data-dir`; the port
/// Chromium picked is read from `<user-data-dir>/DevToolsActivePort`. `shutdown()` (also run
/// by `deinit`) terminates it, kills it if it lingers, and removes the profile.
final class HeadlessChromium {
    static let executable = "/usr/bin/chromium"

    let process = Process()
    let profile: URL
    let logFile: URL
    private(set) var port = 0

    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    init(width: Int = 1440, height: Int = 1000, timeout: Double = 20) throws {
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("tmt-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        logFile = profile.appendingPathComponent("chromium.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking", "--disable-sync",
            "--disable-component-update", "--mute-audio", "--hide-scrollbars",
            "--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir=\(profile.path)",
            "--window-size=\(width),\(height)", "about:blank",
        ]
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let portFile = profile.appendingPathComponent("DevToolsActivePort")
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if let text = try? String(contentsOf: portFile, encoding: .utf8),
               let first = text.split(separator: "\n").first, let p = Int(first), p > 0 {
                port = p
                return
            }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        let output = log
        shutdown()
        throw TestServices.NotRunning(description: "Chromium did not open its DevTools port within \(timeout) s:\n\(output.suffix(3000))")
    }

    deinit { shutdown() }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// The DevTools WebSocket URL of the first page target (the `about:blank` tab).
    func pageWebSocketURL(timeout: Double = 10) throws -> String {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if let r = try? HTTPClient(timeout: 2).get("http://127.0.0.1:\(port)/json/list"), r.status == 200,
               let targets = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [[String: Any]],
               let page = targets.first(where: { $0["type"] as? String == "page" }),
               let url = page["webSocketDebuggerUrl"] as? String {
                return url
            }
            usleep(100_000)
        }
        throw TestServices.NotRunning(description: "Chromium listed no page target within \(timeout) s")
    }

    /// Terminates Chromium (SIGTERM, then SIGKILL after 5 s) and removes the profile. Idempotent.
    func shutdown() {
        if process.isRunning {
            process.terminate()
            let end = Date().addingTimeInterval(5)
            while process.isRunning, Date() < end { usleep(50_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        try? FileManager.default.removeItem(at: profile)
    }
}

/// One page target over the DevTools protocol: commands with ids, answers matched by id, events
/// ignored. Every call is bounded by a timeout.
final class DevToolsPage {
    struct ProtocolError: Error, CustomStringConvertible {
        var description: String
    }

    private let socket: WebSocketClient
    private var nextId = 1

    init(webSocketURL: String) throws {
        socket = try WebSocketClient(url: webSocketURL, timeout: 10)
    }

    /// Sends `method` and waits for its result.
    @discardableResult
    func call(_ method: String, _ params: [String: Any] = [:], timeout: Double = 15) throws -> [String: Any] {
        let id = nextId
        nextId += 1
        let message: [String: Any] = ["id": id, "method": method, "params": params]
        try socket.sendText(String(decoding: try JSONSerialization.data(withJSONObject: message), as: UTF8.self))
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            guard let text = try socket.receiveText(deadline: deadline) else {
                throw ProtocolError(description: "\(method): no answer within \(timeout) s")
            }
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
                  obj["id"] as? Int == id else { continue }   // an event, or a late answer
            if let error = obj["error"] as? [String: Any] {
                throw ProtocolError(description: "\(method): \(error)")
            }
            return obj["result"] as? [String: Any] ?? [:]
        }
    }

    /// Evaluates `expression` in the page (promises awaited) and returns its JSON value.
    func evaluate(_ expression: String, timeout: Double = 10) throws -> Any? {
        let result = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true], timeout: timeout)
        if let exception = result["exceptionDetails"] as? [String: Any] {
            throw ProtocolError(description: "evaluating \(expression.prefix(200)): \(exception)")
        }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Polls `expression` every 100 ms until it is truthy; returns whether it became so in time.
    func waitFor(_ expression: String, timeout: Double) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        repeat {
            if let value = try? evaluate("Boolean(\(expression))"), value as? Bool == true { return true }
            usleep(100_000)
        } while Date() < end
        return false
    }

    /// A PNG of the viewport.
    func screenshot() throws -> Data {
        let result = try call("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true], timeout: 30)
        guard let b64 = result["data"] as? String, let data = Data(base64Encoded: b64) else {
            throw ProtocolError(description: "Page.captureScreenshot returned no data")
        }
        return data
    }

    /// Scrolls to the top and saves a PNG of the page as a test artifact
    /// (`$TMT_TEST_ARTIFACTS`, default `.build/test-artifacts`), `<name>.png`; checks it is a PNG.
    @discardableResult
    func saveScreenshot(name: String, file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        _ = try evaluate("window.scrollTo(0, 0), true")
        let png = try screenshot()
        let folder = URL(fileURLWithPath: ProcessInfo.processInfo.environment["TMT_TEST_ARTIFACTS"]
                         ?? TestServices.repoRoot.appendingPathComponent(".build/test-artifacts").path)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent("\(name).png")
        try png.write(to: url)
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "not a PNG", file: file, line: line)
        print("dashboard screenshot: \(url.path)")
        return url
    }

    func close() { socket.close() }
}
