import PinganRuntime
import Testing

/// `concurrentMap` runs a month's fact statements on connections of their own and writes the
/// index's JSON in chunks: the answers must come back in the order asked, whatever order the
/// work finishes in, and a failure must not be lost among the successes.
@Suite("runtime: concurrentMap")
struct ConcurrentMapTests {
    /// Holds every task until all have arrived, then lets them go last first.
    actor ReverseGate {
        let expected: Int
        private var waiting: [(Int, CheckedContinuation<Void, Never>)] = []
        private(set) var released: [Int] = []

        init(expected: Int) { self.expected = expected }

        func pass(_ element: Int) async {
            await withCheckedContinuation { continuation in
                waiting.append((element, continuation))
                guard waiting.count == expected else { return }
                for (element, continuation) in waiting.sorted(by: { $0.0 > $1.0 }) {
                    released.append(element)
                    continuation.resume()
                }
            }
        }
    }

    /// A version that ran the elements one after another would wait at the gate for good: the
    /// time limit turns that into a failure.
    @Test(.timeLimit(.minutes(1))) func answersComeBackInTheOrderAskedWhateverOrderTheyFinishIn() async throws {
        let gate = ReverseGate(expected: 12)
        let answers = try await Array(0..<12).concurrentMap { element in
            await gate.pass(element)
            return element * 10
        }
        #expect(answers == (0..<12).map { $0 * 10 })
        // Every task was under way at once: the gate opened only when all twelve had arrived.
        #expect(await gate.released == Array((0..<12).reversed()))
    }

    struct Refused: Error, Equatable { let element: Int }

    @Test func aFailureIsThrownNotDropped() async {
        await #expect(throws: Refused(element: 3)) {
            _ = try await Array(0..<8).concurrentMap { element in
                if element == 3 { throw Refused(element: 3) }
                return element
            }
        }
    }
}
