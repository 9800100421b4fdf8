import XCTest
@testable import TMTRedis
import TMTBase
import TMTMetrics

final class RedisConfigurationTests: XCTestCase {
    func testPlainURLGivesHostPortAndDatabase() throws {
        let c = try RedisConfiguration(url: "redis://127.0.0.1:16380/0")
        XCTAssertEqual(c.host, "127.0.0.1")
        XCTAssertEqual(c.port, 16380)
        XCTAssertEqual(c.database, 0)
        XCTAssertNil(c.password)
        XCTAssertNil(c.username)
    }

    func testDefaultsApplyWhenPortAndDatabaseAreMissing() throws {
        let c = try RedisConfiguration(url: "redis://cache.internal")
        XCTAssertEqual(c.host, "cache.internal")
        XCTAssertEqual(c.port, 6379)
        XCTAssertEqual(c.database, 0)
        XCTAssertEqual(c.connectTimeout, 2)
        XCTAssertEqual(c.commandTimeout, 5)
        XCTAssertEqual(c.poolSize, 4)
    }

    func testPasswordIsPercentDecodedAndDatabaseRead() throws {
        let c = try RedisConfiguration(url: "redis://:p%40ss%3Aword@redis:6380/3")
        XCTAssertEqual(c.password, "p@ss:word")
        XCTAssertNil(c.username)
        XCTAssertEqual(c.host, "redis")
        XCTAssertEqual(c.port, 6380)
        XCTAssertEqual(c.database, 3)
    }

    func testUserNameAndIPv6Host() throws {
        let c = try RedisConfiguration(url: "redis://trader:pw@[::1]:7000/1")
        XCTAssertEqual(c.username, "trader")
        XCTAssertEqual(c.password, "pw")
        XCTAssertEqual(c.host, "::1")
        XCTAssertEqual(c.port, 7000)
        XCTAssertEqual(c.endpoint, "[::1]:7000")
    }

    func testQueryOptionsSetTimeoutsAndPoolSize() throws {
        let c = try RedisConfiguration(url: "redis://h:1/2?command_timeout=0.25&connect_timeout=1.5&pool_size=8&acquire_timeout=3&reconnect_attempts=5")
        XCTAssertEqual(c.commandTimeout, 0.25)
        XCTAssertEqual(c.connectTimeout, 1.5)
        XCTAssertEqual(c.poolSize, 8)
        XCTAssertEqual(c.acquireTimeout, 3)
        XCTAssertEqual(c.reconnectAttempts, 5)
    }

    func testRedissIsRejectedBecauseHiredisHasNoTLS() {
        XCTAssertThrowsError(try RedisConfiguration(url: "rediss://:secretpw@redis.example:6380/0")) { error in
            let e = error as? TMTError
            XCTAssertEqual(e?.code, .configuration)
            XCTAssertTrue(e?.message.contains("TLS") ?? false, "\(error)")
            XCTAssertFalse(String(reflecting: error).contains("secretpw"))
        }
    }

    func testInvalidURLsFailWithTheFaultyPartNamedAndNoPassword() {
        let cases: [(String, String)] = [
            ("http://h:1/0", "scheme"),
            ("redis://:secretpw@h:99999/0", "port"),
            ("redis://:secretpw@h:1/abc", "database"),
            ("redis://:secretpw@h:1/0?comand_timeout=1", "comand_timeout"),
            ("redis://:secretpw@h:1/0?pool_size=0", "pool_size"),
            ("redis://user@h:1/0", "password"),
            ("127.0.0.1:6379", "redis://"),
        ]
        for (url, mention) in cases {
            XCTAssertThrowsError(try RedisConfiguration(url: url), url) { error in
                let e = error as? TMTError
                XCTAssertEqual(e?.code, .configuration, url)
                XCTAssertTrue(e?.message.contains(mention) ?? false, "\(url): \(error)")
                XCTAssertFalse(String(reflecting: error).contains("secretpw"), url)
            }
        }
    }

    func testDescriptionHidesThePassword() throws {
        let c = try RedisConfiguration(url: "redis://ops:hunter2@10.0.0.5:6380/4")
        XCTAssertEqual(c.description, "redis://ops:***@10.0.0.5:6380/4")
        XCTAssertFalse("\(c)".contains("hunter2"))
        XCTAssertFalse(String(reflecting: c).contains("hunter2"))
        var dumped = ""
        dump(c, to: &dumped)
        XCTAssertFalse(dumped.contains("hunter2"), dumped)
        XCTAssertEqual(try RedisConfiguration(url: "redis://h:1/0").description, "redis://h:1/0")
    }

    func testValidateRejectsOutOfRangeFields() {
        var c = RedisConfiguration()
        c.poolSize = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue(($0 as? TMTError)?.message.contains("poolSize") ?? false) }
        c = RedisConfiguration()
        c.commandTimeout = -1
        XCTAssertThrowsError(try RedisClient(configuration: c, metrics: MetricsRegistry()))
    }
}
