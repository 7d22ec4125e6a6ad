import Foundation

/// How long to wait before trying a failed delivery again: doubling from `initial` to
/// `ceiling`, jittered down by up to half so that retries after an outage spread out.
public struct Backoff: Sendable {
    public var initial: Double
    public var ceiling: Double

    public init(initial: Double, ceiling: Double) {
        self.initial = initial
        self.ceiling = ceiling
    }

    /// Events between services: 0.2 s doubling to 30 s.
    public static let relay = Backoff(initial: 0.2, ceiling: 30)

    /// Seconds to wait after `attempts` failed attempts (1 or more).
    public func seconds(afterAttempts attempts: Int) -> Double {
        min(ceiling, initial * pow(2.0, Double(min(max(attempts, 1) - 1, 20)))) * Double.random(in: 0.5...1.0)
    }
}
