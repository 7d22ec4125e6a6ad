import Foundation

/// When a WeCom group robot may be sent a message: the robot takes at most ``limit``
/// messages in any ``window`` (20 a minute), and refuses the rest. A pure decision from the
/// times of the recent sends to the robot, so it is the same in every replica (the times
/// come from the database) and in tests (from a manual clock).
///
/// Nothing is dropped: while the robot has room, each push goes as its own message; the last
/// message of a window names every push still waiting (``Decision/group``,
/// ``WeComMessage/grouped(_:link:)``); with no room, a push waits until a message of the
/// window is a minute old.
struct RobotPacing: Sendable, Equatable {
    var limit = 20
    var window: TimeInterval = 60

    enum Decision: Sendable, Equatable {
        /// Send this push as its own message.
        case send
        /// Send one message naming this push and those waiting.
        case group
        /// The robot has had its messages for now: try again at this time.
        case wait(until: Date)
    }

    /// - Parameters:
    ///   - recent: when messages were sent to the robot, in any order.
    ///   - waiting: how many other pushes to the robot wait to be sent.
    func decide(sentAt recent: [Date], now: Date, waiting: Int) -> Decision {
        let inWindow = recent.filter { $0 > now.addingTimeInterval(-window) && $0 <= now }.sorted()
        if inWindow.count >= limit { return .wait(until: inWindow[inWindow.count - limit].addingTimeInterval(window)) }
        if inWindow.count == limit - 1, waiting > 0 { return .group }
        return .send
    }
}
