import TMTBase
import TMTCore

/// Typed access to a request's query parameters: each malformed value is a 400 naming the
/// parameter (never echoing its value). Unknown parameters are refused too, so a typo such as
/// `acount=` does not silently return every account's rows.
struct QueryParameters {
    let request: HTTPRequest

    init(_ request: HTTPRequest, allowed: Set<String>) throws {
        self.request = request
        for item in request.query where !allowed.contains(item.name) {
            throw HTTPError.badRequest("unknown query parameter '\(String(item.name.prefix(64)))'; allowed: \(allowed.sorted().joined(separator: ", "))",
                                       code: "invalid_parameter")
        }
    }

    /// A non-empty string (at most 200 characters), or nil when absent.
    func string(_ name: String) throws -> String? {
        guard let v = request.queryValue(name) else { return nil }
        guard !v.isEmpty, v.count <= 200 else {
            throw HTTPError.badRequest("query parameter '\(name)' must be 1 to 200 characters", code: "invalid_parameter")
        }
        return v
    }

    /// One of `values`, or nil when absent.
    func choice(_ name: String, _ values: [String]) throws -> String? {
        guard let v = try string(name) else { return nil }
        guard values.contains(v) else {
            throw HTTPError.badRequest("query parameter '\(name)' must be one of \(values.joined(separator: ", "))", code: "invalid_parameter")
        }
        return v
    }

    /// An RFC 3339 time (`2026-01-05T10:00:00Z`, fraction optional) or Unix seconds, from year
    /// 1 to 9999, or nil.
    func time(_ name: String) throws -> Date? {
        guard let v = try string(name) else { return nil }
        var date: Date?
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(v) { date = d }
        else if let d = try? Date.ISO8601FormatStyle().parse(v) { date = d }
        else if let s = Double(v), s.isFinite { date = Date(timeIntervalSince1970: s) }
        guard let date else {
            throw HTTPError.badRequest("query parameter '\(name)' must be an RFC 3339 time or Unix seconds", code: "invalid_parameter")
        }
        // Outside this PostgreSQL rejects the time (a 500) or the encoder sends NULL (no rows).
        guard Self.timeRange.contains(date.timeIntervalSince1970) else {
            throw HTTPError.badRequest("query parameter '\(name)' must be a time from year 1 to 9999", code: "invalid_parameter")
        }
        return date
    }

    /// Unix seconds of 0001-01-01T00:00:00Z … 9999-12-31T23:59:59Z.
    static let timeRange: ClosedRange<Double> = -62_135_596_800 ... 253_402_300_799

    /// An integer in `range`, or `defaultValue` when absent.
    func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        guard let v = request.queryValue(name) else { return defaultValue }
        guard let i = Int(v), range.contains(i) else {
            throw HTTPError.badRequest("query parameter '\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound)",
                                       code: "invalid_parameter")
        }
        return i
    }

    /// The page cursor, or nil for the first page.
    func cursor() throws -> PageCursor? {
        guard let v = request.queryValue("cursor") else { return nil }
        guard let c = PageCursor(encoded: v) else {
            throw HTTPError.badRequest("query parameter 'cursor' is not a cursor this API issued", code: "invalid_parameter")
        }
        return c
    }
}

/// An opaque keyset cursor: the (time, id) of the last row of a page, newest first. Encoded as
/// base64url of `<µs since epoch>|<id>`, so a client cannot depend on its shape.
struct PageCursor: Equatable {
    var micros: Int64
    var id: String

    init(micros: Int64, id: String) {
        self.micros = micros
        self.id = id
    }

    init?(encoded: String) {
        var b64 = encoded.replacing("-", with: "+").replacing("_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard encoded.count <= 1024, let data = Data(base64Encoded: b64), let text = String(data: data, encoding: .utf8),
              let bar = text.firstIndex(of: "|"), let micros = Int64(text[..<bar]),
              QueryParameters.timeRange.contains(Double(micros) / 1_000_000) else { return nil }
        self.micros = micros
        id = String(text[text.index(after: bar)...])
    }

    var encoded: String {
        Data("\(micros)|\(id)".utf8).base64EncodedString()
            .replacing("+", with: "-").replacing("/", with: "_").replacing("=", with: "")
    }
}
