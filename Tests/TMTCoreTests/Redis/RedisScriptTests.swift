import XCTest
@testable import TMTRedis

final class RedisScriptTests: XCTestCase {
    func testSHA1MatchesPublishedVectors() {
        XCTAssertEqual(SHA1.hexDigest([]), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(SHA1.hexDigest(Array("abc".utf8)), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(SHA1.hexDigest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        XCTAssertEqual(SHA1.hexDigest(Array("The quick brown fox jumps over the lazy dog".utf8)),
                       "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12")
    }

    func testScriptNamesItselfBySHA1OfItsSource() {
        let script = RedisScript("return 1")
        XCTAssertEqual(script.sha1, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
        XCTAssertEqual(RedisScript.popDue.sha1.count, 40)
    }
}
