import Foundation
@testable import GatewayService
import Synchronization
import Testing

/// The frame's centre name is read once per lifetime, not once per page.
@Suite("dashboard: the centres' names kept")
struct CentreNamesTests {
    @Test func aNameIsReadOnceForItsLifetimeAndAFailedReadIsNotKept() async {
        let names = CentreNames(lifetime: 600)
        let reads = Mutex(0)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        func read(_ name: String) -> () async throws -> String {
            { reads.withLock { $0 += 1 }; return name }
        }
        struct Down: Error {}

        // grid-service down: the code stands in, and the next page asks again.
        #expect(await names.name(of: "430723102000", now: start) { throw Down() } == "430723102000")
        #expect(await names.name(of: "430723102000", now: start, read: read("小渡口镇")) == "小渡口镇")
        #expect(await names.name(of: "430723102000", now: start.addingTimeInterval(599), read: read("改名后")) == "小渡口镇")
        #expect(await names.name(of: "430723000000", now: start, read: read("澧县")) == "澧县")
        #expect(reads.withLock { $0 } == 2)
        // After the lifetime, a rename shows.
        #expect(await names.name(of: "430723102000", now: start.addingTimeInterval(601), read: read("改名后")) == "改名后")
        #expect(reads.withLock { $0 } == 3)
    }
}
