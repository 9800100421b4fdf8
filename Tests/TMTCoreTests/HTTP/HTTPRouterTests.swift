import Foundation
import TMTCore
import XCTest

private struct OrderRequest: Codable, Equatable {
    struct Leg: Codable, Equatable {
        var price: Double
    }
    var symbol: String
    var quantity: Double
    var legs: [Leg]?
}

private struct Boom: Error, CustomStringConvertible {
    var description: String { "database password=hunter2 rejected" }
}

/// Routing, parameters, query decoding, method handling and error mapping, through a real
/// server and through `HTTPRouter.respond(to:)` alone.
final class HTTPRouterTests: XCTestCase {
    static func router() -> HTTPRouter {
        var r = HTTPRouter()
        r.get("/api/v1/orders/:id") { req in .text("order \(req.parameter("id") ?? "?") route \(req.route)") }
        r.get("/api/v1/orders/summary") { _ in .text("summary") }
        r.post("/api/v1/orders") { req in
            let order = try req.decode(OrderRequest.self)
            return try .json(order, status: .created)
        }
        r.delete("/api/v1/orders/:id") { req in .text("deleted \(req.parameter("id") ?? "?")") }
        r.get("/static/*path") { req in .text("file [\(req.parameter("path") ?? "")]") }
        r.get("/search") { req in
            let q = req.query.map { "\($0.name)=\($0.value)" }.joined(separator: "|")
            return .text(q)
        }
        r.get("/fail") { _ in throw Boom() }
        r.get("/conflict") { _ in throw HTTPError.conflict("order already filled", code: "order_filled") }
        r.get("/") { _ in .text("root") }
        return r
    }

    private func start() throws -> TestHTTPServer { try TestHTTPServer(Self.router()) }

    private func get(_ s: TestHTTPServer, _ target: String, method: String = "GET") throws -> RawHTTPResponse? {
        let c = try s.connect()
        c.send("\(method) \(target) HTTP/1.1\r\nHost: x\r\n\r\n")
        return c.readResponse(headRequest: method == "HEAD")
    }

    func testPathParametersArePercentDecoded() throws {
        let s = try start()
        XCTAssertEqual(try get(s, "/api/v1/orders/42")?.text, "order 42 route /api/v1/orders/:id")
        XCTAssertEqual(try get(s, "/api/v1/orders/a%20b%2Fc")?.text, "order a b/c route /api/v1/orders/:id")
    }

    func testLiteralRouteWinsOverParameterRoute() throws {
        let s = try start()
        XCTAssertEqual(try get(s, "/api/v1/orders/summary")?.text, "summary")
    }

    func testRestParameterCapturesTheRemainingSegments() throws {
        let s = try start()
        XCTAssertEqual(try get(s, "/static/css/site.css")?.text, "file [css/site.css]")
        XCTAssertEqual(try get(s, "/static/")?.text, "file []")
    }

    func testQueryItemsAreDecodedInOrder() throws {
        let s = try start()
        let r = try get(s, "/search?symbol=EUR%2FUSD&note=a+b%2Bc&flag&empty=&symbol=GBPUSD")
        XCTAssertEqual(r?.text, "symbol=EUR/USD|note=a b+c|flag=|empty=|symbol=GBPUSD")
    }

    func testMalformedPercentEncodingIs400() throws {
        let s = try start()
        XCTAssertEqual(try get(s, "/search?x=%zz")?.status, 400)
        XCTAssertEqual(try get(s, "/api/v1/orders/%4")?.status, 400)
    }

    func testUnknownPathIs404WithJSONError() throws {
        let s = try start()
        let r = try get(s, "/nope")
        XCTAssertEqual(r?.status, 404)
        XCTAssertEqual(r?.header("Content-Type"), "application/json")
        XCTAssertEqual(r?.errorCode, "not_found")
        XCTAssertEqual(try get(s, "/api/v1/orders/1/extra")?.status, 404)
        XCTAssertEqual(try get(s, "/")?.text, "root")
    }

    func testWrongMethodOnKnownPathIs405WithAllow() throws {
        let s = try start()
        let r = try get(s, "/api/v1/orders/7", method: "PUT")
        XCTAssertEqual(r?.status, 405)
        XCTAssertEqual(r?.header("Allow"), "DELETE, GET, HEAD")
        XCTAssertEqual(r?.errorCode, "method_not_allowed")
        let post = try get(s, "/search", method: "POST")
        XCTAssertEqual(post?.status, 405)
        XCTAssertEqual(post?.header("Allow"), "GET, HEAD")
        XCTAssertEqual(try get(s, "/api/v1/orders/7", method: "DELETE")?.text, "deleted 7")
    }

    func testHeadHasHeadersButNoBody() throws {
        let s = try start()
        let c = try s.connect()
        c.send("HEAD /api/v1/orders/42 HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/orders/43 HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = c.readResponse(headRequest: true)
        XCTAssertEqual(head?.status, 200)
        XCTAssertEqual(head?.header("Content-Length"), String("order 42 route /api/v1/orders/:id".utf8.count))
        // If the HEAD response had carried a body, it would be read here as the next response.
        let next = c.readResponse()
        XCTAssertEqual(next?.text, "order 43 route /api/v1/orders/:id")
    }

    func testJSONBodyIsDecodedAndEncoded() throws {
        let s = try start()
        let client = HTTPClient(timeout: 5)
        let r = try client.post("\(s.baseURL)/api/v1/orders", body: Array(#"{"symbol":"EURUSD","quantity":1.5}"#.utf8))
        XCTAssertEqual(r.status, 201)
        XCTAssertEqual(r.text, #"{"quantity":1.5,"symbol":"EURUSD"}"#, "sorted keys")
        XCTAssertEqual(try r.decode(OrderRequest.self), OrderRequest(symbol: "EURUSD", quantity: 1.5, legs: nil))
    }

    func testJSONDecodeErrorsNameTheField() throws {
        let s = try start()
        let client = HTTPClient(timeout: 5)
        let cases: [(String, String)] = [
            (#"{"symbol":"EURUSD"}"#, "quantity"),
            (#"{"symbol":"EURUSD","quantity":"ten"}"#, "quantity"),
            (#"{"symbol":null,"quantity":1}"#, "symbol"),
            (#"{"symbol":"EURUSD","quantity":1,"legs":[{"price":1},{"price":"x"}]}"#, "legs[1].price"),
        ]
        for (body, field) in cases {
            let r = try client.post("\(s.baseURL)/api/v1/orders", body: Array(body.utf8))
            XCTAssertEqual(r.status, 400, body)
            let err = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: [String: String]]
            XCTAssertEqual(err?["error"]?["code"], "invalid_body")
            XCTAssertTrue(err?["error"]?["message"]?.contains("'\(field)'") ?? false, "\(body) → \(r.text)")
        }
        let garbage = try client.post("\(s.baseURL)/api/v1/orders", body: Array("{not json".utf8))
        XCTAssertEqual(garbage.status, 400)
        XCTAssertTrue(garbage.text.contains("not valid JSON"), garbage.text)
        let empty = try client.post("\(s.baseURL)/api/v1/orders", body: [])
        XCTAssertEqual(empty.status, 400)
    }

    func testHandlerErrorBecomesGeneric500AndIsLogged() throws {
        let s = try start()
        let r = try get(s, "/fail")
        XCTAssertEqual(r?.status, 500)
        XCTAssertEqual(r?.errorCode, "internal")
        XCTAssertEqual(r?.errorMessage, "internal server error")
        XCTAssertFalse(r?.text.contains("hunter2") ?? true, "the error text must not reach the client")
        XCTAssertTrue(s.logSink.all.contains { $0.contains("handler failed") && $0.contains("route=/fail") }, "\(s.logSink.all)")
        // The connection stays usable after a 500.
        XCTAssertEqual(try get(s, "/search?a=1")?.status, 200)
    }

    func testHTTPErrorMapsToItsStatusAndCode() throws {
        let s = try start()
        let r = try get(s, "/conflict")
        XCTAssertEqual(r?.status, 409)
        XCTAssertEqual(r?.errorCode, "order_filled")
        XCTAssertEqual(r?.errorMessage, "order already filled")
    }

    func testRouterRespondsWithoutANetwork() throws {
        let router = Self.router()
        let r = router.respond(to: HTTPRequest(method: .get, target: "/api/v1/orders/9"))
        XCTAssertEqual(r.status, .ok)
        XCTAssertEqual(String(decoding: r.bodyBytes, as: UTF8.self), "order 9 route /api/v1/orders/:id")
        let q = router.respond(to: HTTPRequest(method: .get, target: "/search?x=1+2"))
        XCTAssertEqual(String(decoding: q.bodyBytes, as: UTF8.self), "x=1 2")
        let notAllowed = router.respond(to: HTTPRequest(method: .patch, target: "/search"))
        XCTAssertEqual(notAllowed.status, .methodNotAllowed)
        XCTAssertEqual(notAllowed.headers["allow"], "GET, HEAD")
        XCTAssertEqual(router.respond(to: HTTPRequest(method: .get, target: "/missing")).status.code, 404)
        let posted = router.respond(to: HTTPRequest(method: .post, target: "/api/v1/orders", body: Array(#"{"symbol":"X"}"#.utf8)))
        XCTAssertEqual(posted.status.code, 400)
    }

    func testHeadersLookupIsCaseInsensitive() {
        var h: HTTPHeaders = ["Content-Type": "text/plain"]
        XCTAssertEqual(h["content-type"], "text/plain")
        h.add("Set-Cookie", "a=1")
        h.add("set-cookie", "b=2")
        XCTAssertEqual(h.values("SET-COOKIE"), ["a=1", "b=2"])
        h["Set-Cookie"] = "c=3"
        XCTAssertEqual(h.values("set-cookie"), ["c=3"])
        h["SET-COOKIE"] = nil
        XCTAssertFalse(h.contains("Set-Cookie"))
    }
}
