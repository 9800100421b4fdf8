import TMTBase
import TMTModels

/// Reads recorded ticks for replay: JSON Lines (one `Tick` object per line, as the pipeline
/// encodes it) or CSV with the header `instrument,time,bid,ask,volume` (time in µs since the
/// epoch or an ISO-8601 instant). Blank lines and lines starting with `#` are skipped; anything
/// else that does not parse is an error naming the line.
public struct TickFileReader: Sendable {
    public enum Format: String, Sendable {
        case jsonl, csv
    }

    public let format: Format

    public init(format: Format) {
        self.format = format
    }

    /// The format implied by a file name (`.csv` → CSV, anything else JSON Lines).
    public init(path: String) {
        format = path.lowercased().hasSuffix(".csv") ? .csv : .jsonl
    }

    /// A line that could not be read.
    public struct LineError: Error, CustomStringConvertible, Equatable {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Parses a whole file's text into ticks, in file order.
    public func parse(_ text: String) throws -> [Tick] {
        var ticks: [Tick] = []
        var header: [String]?
        let iso = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let isoWhole = Date.ISO8601FormatStyle()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let number = index + 1
            switch format {
            case .jsonl:
                do {
                    ticks.append(try JSONDecoder().decode(Tick.self, from: Data(line.utf8)))
                } catch {
                    throw LineError(line: number, message: "not a tick JSON object (\(Self.describe(error)))")
                }
            case .csv:
                let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
                guard let columns = header else {
                    let expected = ["instrument", "time", "bid", "ask", "volume"]
                    guard Set(fields) == Set(expected), fields.count == expected.count else {
                        throw LineError(line: number, message: "expected the header instrument,time,bid,ask,volume")
                    }
                    header = fields
                    continue
                }
                guard fields.count == columns.count else {
                    throw LineError(line: number, message: "expected \(columns.count) fields, found \(fields.count)")
                }
                var row: [String: String] = [:]
                for (k, v) in zip(columns, fields) { row[k] = v }
                ticks.append(try Self.tick(row, line: number, iso: [iso, isoWhole]))
            }
        }
        return ticks
    }

    private static func tick(_ row: [String: String], line: Int, iso: [Date.ISO8601FormatStyle]) throws -> Tick {
        func decimal(_ key: String) throws -> Decimal {
            guard let s = row[key], !s.isEmpty, s.allSatisfy({ "0123456789.-".contains($0) }),
                  let v = Decimal(string: s) else {
                throw LineError(line: line, message: "\(key): expected a decimal number, got '\(row[key] ?? "")'")
            }
            return v
        }
        guard let instrument = row["instrument"], !instrument.isEmpty else {
            throw LineError(line: line, message: "instrument is empty")
        }
        let rawTime = row["time"] ?? ""
        let time: Int64
        if let micros = Int64(rawTime) {
            time = micros
        } else if let date = iso.lazy.compactMap({ try? $0.parse(rawTime) }).first {
            time = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        } else {
            throw LineError(line: line, message: "time: expected µs since the epoch or an ISO-8601 instant, got '\(rawTime)'")
        }
        let bid = try decimal("bid"), ask = try decimal("ask")
        guard ask >= bid else { throw LineError(line: line, message: "ask \(ask) is below bid \(bid)") }
        return Tick(instrument: instrument, bid: bid, ask: ask, volume: try decimal("volume"), time: time)
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.keyNotFound(let key, _) = error { return "missing field '\(key.stringValue)'" }
        if case DecodingError.typeMismatch(_, let ctx) = error { return "wrong type at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'" }
        if case DecodingError.dataCorrupted = error { return "invalid JSON" }
        return "\(error)"
    }
}
