import Foundation
import TMTBase
import XCTest

final class TCPNoDelayTests: XCTestCase {
    private func noDelay(_ fd: Int32) -> Int32 {
        var value: Int32 = -1
        var size = socklen_t(MemoryLayout<Int32>.size)
        XCTAssertEqual(getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &size), 0)
        return value
    }

    func testSetsNoDelayOnEveryOpenTCPSocketAndLeavesOthersAlone() throws {
        // A listener, a client and the accepted end: three TCP sockets with Nagle on.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        XCTAssertEqual(withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, len) } }, 0)
        XCTAssertEqual(listen(listener, 4), 0)
        XCTAssertEqual(withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }, 0)
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        XCTAssertEqual(withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, len) } }, 0)
        let accepted = accept(listener, nil, nil)
        XCTAssertGreaterThanOrEqual(accepted, 0)
        defer { close(accepted) }
        // Not TCP: a UDP socket and a pipe stay as they are.
        let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(udp) }
        var pipeFDs: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&pipeFDs), 0)
        defer { close(pipeFDs[0]); close(pipeFDs[1]) }

        for fd in [listener, client, accepted] { XCTAssertEqual(noDelay(fd), 0, "Nagle on by default") }
        XCTAssertGreaterThanOrEqual(TCPNoDelay.applyToOpenSockets(), 3)
        for fd in [listener, client, accepted] { XCTAssertNotEqual(noDelay(fd), 0, "fd \(fd) has TCP_NODELAY") }
        XCTAssertFalse(TCPNoDelay.set(udp))
        XCTAssertFalse(TCPNoDelay.set(pipeFDs[0]))
        for fd in [listener, client, accepted] { XCTAssertFalse(TCPNoDelay.set(fd), "already set: nothing to change") }

        // Repeated passes remember what they handled: a new connection is the only work left.
        var seen = Set<UInt64>()
        TCPNoDelay.applyToOpenSockets(seen: &seen)
        XCTAssertGreaterThanOrEqual(seen.count, 3)
        let second = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(second) }
        XCTAssertEqual(noDelay(second), 0)
        XCTAssertGreaterThanOrEqual(TCPNoDelay.applyToOpenSockets(seen: &seen), 1, "the new socket is handled")
        XCTAssertNotEqual(noDelay(second), 0)
    }
}
