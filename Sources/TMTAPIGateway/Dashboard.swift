import TMTCore

/// The Trading Dashboard: one page of plain HTML, CSS and JavaScript compiled into the binary
/// (no framework, no external URL; a staging desk may be offline). It is served on the dashboard
/// port next to the full API route table, so everything the page fetches is same-origin.
enum Dashboard {
    /// Content-Security-Policy of the page: nothing but this origin (inline style attributes are
    /// allowed because the charts and bars set widths; scripts are only `/dashboard.js`).
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

    /// Adds `/`, `/dashboard.js` and `/dashboard.css` to `router`.
    static func addRoutes(to router: inout HTTPRouter) {
        let page = Array(DashboardPage.html.utf8)
        let script = Array(DashboardScript.javascript.utf8)
        let style = Array(DashboardStyle.css.utf8)
        router.get("/") { _ in asset(page, "text/html; charset=utf-8") }
        router.get("/dashboard.js") { _ in asset(script, "text/javascript; charset=utf-8") }
        router.get("/dashboard.css") { _ in asset(style, "text/css; charset=utf-8") }
    }

    private static func asset(_ bytes: [UInt8], _ contentType: String) -> HTTPResponse {
        var r = HTTPResponse.bytes(bytes, contentType: contentType)
        // The page and its assets come from the same binary: never mix versions across a deploy.
        r.headers["Cache-Control"] = "no-cache"
        r.headers["Content-Security-Policy"] = contentSecurityPolicy
        r.headers["X-Content-Type-Options"] = "nosniff"
        r.headers["Referrer-Policy"] = "no-referrer"
        return r
    }
}
