import XCTest
@testable import TMTPostgres
import TMTBase

final class PostgresConfigurationTests: XCTestCase {
    func testFullURLSetsEveryField() throws {
        let c = try PostgresConfiguration(url: "postgresql://trading_user:pw@127.0.0.1:15433/trading_staging?sslmode=disable&connect_timeout=3&application_name=aria-risk&statement_timeout=5000&pool_max=4&acquire_timeout=2.5&health_check_interval=10")
        XCTAssertEqual(c.user, "trading_user")
        XCTAssertEqual(c.password, "pw")
        XCTAssertEqual(c.host, "127.0.0.1")
        XCTAssertEqual(c.port, 15433)
        XCTAssertEqual(c.database, "trading_staging")
        XCTAssertEqual(c.sslMode, .disable)
        XCTAssertEqual(c.connectTimeout, 3)
        XCTAssertEqual(c.applicationName, "aria-risk")
        XCTAssertEqual(c.statementTimeout, 5)
        XCTAssertEqual(c.maxConnections, 4)
        XCTAssertEqual(c.acquireTimeout, 2.5)
        XCTAssertEqual(c.healthCheckInterval, 10)
    }

    func testDefaultsFollowLibpq() throws {
        let c = try PostgresConfiguration(url: "postgres://app@db.internal")
        XCTAssertEqual(c.host, "db.internal")
        XCTAssertEqual(c.port, 5432)
        XCTAssertEqual(c.database, "app", "the database defaults to the user name, as in libpq")
        XCTAssertNil(c.password)
        XCTAssertEqual(c.sslMode, .prefer)
        XCTAssertEqual(c.connectTimeout, 5)
        XCTAssertNil(c.statementTimeout)
        XCTAssertNil(c.applicationName)
        XCTAssertEqual(c.maxConnections, 10)
        XCTAssertEqual(c.acquireTimeout, 5)
        XCTAssertEqual(c.healthCheckInterval, 30)
    }

    func testPercentEncodedCredentialsAndDatabaseAreDecoded() throws {
        let c = try PostgresConfiguration(url: "postgresql://us%40er:p%40ss%3Aw%2Fo%25rd%20%C3%A9@host:1234/my%20db")
        XCTAssertEqual(c.user, "us@er")
        XCTAssertEqual(c.password, "p@ss:w/o%rd é")
        XCTAssertEqual(c.database, "my db")
    }

    func testUnencodedAtAndSlashInPasswordStillParse() throws {
        let c = try PostgresConfiguration(url: "postgresql://u:p@ss/w@h:5/db")
        XCTAssertEqual(c.password, "p@ss/w")
        XCTAssertEqual(c.host, "h")
        XCTAssertEqual(c.port, 5)
        XCTAssertEqual(c.database, "db")
    }

    func testIPv6HostAndSocketDirectory() throws {
        let v6 = try PostgresConfiguration(url: "postgresql://u@[::1]:5433/db")
        XCTAssertEqual(v6.host, "::1")
        XCTAssertEqual(v6.port, 5433)
        let socket = try PostgresConfiguration(url: "postgresql://u@/db?host=/var/run/postgresql")
        XCTAssertEqual(socket.host, "/var/run/postgresql")
    }

    func testStatementTimeoutTakesMillisecondsOrUnits() throws {
        func timeout(_ raw: String) throws -> Double? {
            try PostgresConfiguration(url: "postgresql://u@h/db?statement_timeout=\(raw)").statementTimeout
        }
        XCTAssertEqual(try timeout("5000"), 5)
        XCTAssertEqual(try timeout("250ms"), 0.25)
        XCTAssertEqual(try timeout("2s"), 2)
        XCTAssertEqual(try timeout("1min"), 60)
        XCTAssertNil(try timeout("0"), "0 means no limit, as in PostgreSQL")
    }

    func testInvalidSettingsFailNamingTheParameter() {
        let cases: [(String, String)] = [
            ("postgresql://u@h/db?sslmode=sometimes", "sslmode"),
            ("postgresql://u@h/db?pool_max=0", "pool_max"),
            ("postgresql://u@h/db?pool_max=many", "pool_max"),
            ("postgresql://u@h/db?acquire_timeout=-1", "acquire_timeout"),
            ("postgresql://u@h/db?poolmax=3", "poolmax"),
            ("postgresql://u@h/db?sslmode=disable&sslmode=require", "sslmode"),
            ("postgresql://u@h:99999/db", "port"),
            ("postgresql://u@h:abc/db", "port"),
            ("mysql://u@h/db", "postgresql://"),
            ("postgresql://h/db", "user name"),
        ]
        for (url, expected) in cases {
            XCTAssertThrowsError(try PostgresConfiguration(url: url), url) { error in
                let e = error as? TMTError
                XCTAssertEqual(e?.code, .configuration, url)
                XCTAssertTrue(e?.message.contains(expected) ?? false, "\(url): \(String(describing: e?.message)) should mention \(expected)")
            }
        }
    }

    func testErrorsNeverRepeatThePassword() {
        let secret = "Sup3rS3cretPw"
        let urls = [
            "postgresql://u:\(secret)@h:notaport/db",
            "postgresql://u:\(secret)%zz@h/db",
            "postgresql://u:\(secret)@h/db?sslmode=\(secret)x",
            "postgresql://u:\(secret)@h/db?bogus=1",
            "postgresql://:\(secret)@h/db",
        ]
        for url in urls {
            XCTAssertThrowsError(try PostgresConfiguration(url: url), url) { error in
                XCTAssertFalse("\(error)".contains(secret), "\(error)")
                XCTAssertFalse(String(reflecting: error).contains(secret), String(reflecting: error))
            }
        }
    }

    func testDescriptionAndDumpHideThePassword() throws {
        let c = try PostgresConfiguration(url: "postgresql://trading_user:Hunter2Secret@127.0.0.1:15433/trading_staging?sslmode=disable&pool_max=4")
        var dumped = ""
        dump(c, to: &dumped)
        for text in [c.description, c.debugDescription, String(reflecting: c), "\(c)", dumped, c.redactedURL] {
            XCTAssertFalse(text.contains("Hunter2Secret"), text)
        }
        XCTAssertEqual(c.description, "postgresql://trading_user:***@127.0.0.1:15433/trading_staging?sslmode=disable (pool max 4, acquire timeout 5.0 s)")
    }

    func testEnvironmentReadsTheURLAndAPasswordOverride() throws {
        let env = Environment([
            "TRADING_DB_URL": "postgresql://trading_user:from-url@db:5433/trading_staging?pool_max=3",
            "TRADING_DB_URL_PASSWORD": "from-secret",
        ])
        let c = try PostgresConfiguration(environment: env, key: "TRADING_DB_URL")
        XCTAssertEqual(c.password, "from-secret")
        XCTAssertEqual(c.maxConnections, 3)
        XCTAssertEqual(c.host, "db")
    }

    func testMissingOrBadEnvironmentVariableNamesIt() {
        XCTAssertThrowsError(try PostgresConfiguration(environment: Environment([:]), key: "DATABASE_URL")) { error in
            XCTAssertTrue((error as? TMTError)?.message.contains("DATABASE_URL") ?? false, "\(error)")
        }
        XCTAssertThrowsError(try PostgresConfiguration(environment: Environment(["DATABASE_URL": "postgresql://u:pw@h/db?pool_max=x"]))) { error in
            XCTAssertTrue((error as? TMTError)?.message.contains("environment variable DATABASE_URL") ?? false, "\(error)")
        }
    }

    func testLibpqGetsThePasswordAsAParameterAndTheSessionSettings() throws {
        let c = try PostgresConfiguration(url: "postgresql://u:pw@h/db?statement_timeout=1500&application_name=gateway")
        let params = Dictionary(c.libpqParameters, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(params["password"], "pw")
        XCTAssertEqual(params["application_name"], "gateway")
        XCTAssertEqual(params["client_encoding"], "UTF8")
        let options = try XCTUnwrap(params["options"])
        XCTAssertTrue(options.contains("statement_timeout=1500"), options)
        XCTAssertTrue(options.contains("TimeZone=UTC"), options)
        XCTAssertTrue(options.contains("bytea_output=hex"), options)
    }
}
