import TMTBase

/// The samples of a Prometheus text exposition (0.0.4), enough to read a few families: a
/// sample's name, labels and value. Comment lines and malformed lines are skipped. The gateway
/// reads agents' metrics with it, the testing tools every service's.
public struct PrometheusSamples: Sendable {
    public struct Sample: Sendable, Equatable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public private(set) var samples: [Sample] = []

    public init(_ text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            if let s = Self.parse(Substring(line)) { samples.append(s) }
        }
    }

    public func first(_ name: String) -> Sample? { samples.first { $0.name == name } }

    /// The sum of `name`'s samples grouped by the value of `label` (samples without it skipped).
    public func sum(_ name: String, by label: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for s in samples where s.name == name {
            if let key = s.labels[label] { out[key, default: 0] += s.value }
        }
        return out
    }

    private static func parse(_ line: Substring) -> Sample? {
        var labels: [String: String] = [:]
        let name: Substring
        var rest: Substring
        if let brace = line.firstIndex(of: "{") {
            name = line[..<brace]
            var i = line.index(after: brace)
            // name="value" pairs; values may hold \\, \" and \n escapes.
            while i < line.endIndex, line[i] != "}" {
                guard let eq = line[i...].firstIndex(of: "="), line.index(after: eq) < line.endIndex,
                      line[line.index(after: eq)] == "\"" else { return nil }
                let key = line[i..<eq].trimming(charactersIn: ", ")
                var j = line.index(eq, offsetBy: 2)
                var value = ""
                while j < line.endIndex, line[j] != "\"" {
                    if line[j] == "\\", line.index(after: j) < line.endIndex {
                        j = line.index(after: j)
                        value.append(line[j] == "n" ? "\n" : line[j])
                    } else {
                        value.append(line[j])
                    }
                    j = line.index(after: j)
                }
                guard j < line.endIndex else { return nil }
                labels[key] = value
                i = line.index(after: j)
                while i < line.endIndex, line[i] == "," || line[i] == " " { i = line.index(after: i) }
            }
            guard i < line.endIndex else { return nil }
            rest = line[line.index(after: i)...]
        } else {
            guard let space = line.firstIndex(of: " ") else { return nil }
            name = line[..<space]
            rest = line[space...]
        }
        rest = rest.drop { $0 == " " }
        let valueText = rest.prefix { $0 != " " }
        guard !name.isEmpty, let value = Double(valueText) else { return nil }
        return Sample(name: String(name), labels: labels, value: value)
    }
}
