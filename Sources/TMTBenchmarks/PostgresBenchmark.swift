import Foundation
import TMTCore

enum PostgresBenchmark {
    static func run(seconds: Int, threads: Int, url: String?) throws {
        throw BenchmarkError("postgres benchmark not wired yet")
    }
}
