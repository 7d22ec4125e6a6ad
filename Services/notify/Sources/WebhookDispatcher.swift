import Crypto
import Foundation
import Logging
import PinganConnect
import PinganOutbox
import PinganPostgres
import ServiceLifecycle

/// Sends queued webhook deliveries until each receiver answers 2xx.
///
/// Each request is `POST <url>` with the stored JSON body and these headers:
///
/// | header | value |
/// |---|---|
/// | `Content-Type` | `application/json` |
/// | `X-Pingan-Event` | `warning.raised` |
/// | `X-Pingan-Delivery` | the delivery's UUID, the same on every retry: dedupe on it |
/// | `X-Pingan-Signature` | `sha256=` + hex HMAC-SHA256 of the raw body, keyed with the subscription's secret |
///
/// Every attempt is recorded in `notify.attempts`. Failures retry with jittered exponential
/// backoff from 0.5 s to a 5-minute ceiling, without end: a warning is never silently
/// dropped. A dispatcher killed mid-send rolls back its claim, so the delivery is sent again
/// with the same id.
struct WebhookDispatcher: Service {
    let pool: PostgresPool
    let transport: CurlTransport
    let wakeup: OutboxWakeup
    let logger: Logger
    var pollInterval: Duration = .milliseconds(50)
    var timeout: Duration = .seconds(5)

    func run() async throws {
        await wakeup.repeatRounds(every: pollInterval, logger: logger, label: "webhook dispatch") { try await dispatchBatch() }
    }

    func dispatchBatch() async throws -> Int {
        try await pool.transaction { transaction in
            let due = try await transaction.query(
                """
                SELECT d.id, d.payload, s.url, s.secret, d.attempts
                FROM notify.deliveries d JOIN notify.subscriptions s ON s.id = d.subscription_id
                WHERE d.delivered_at IS NULL AND d.next_attempt_at <= clock_timestamp()
                ORDER BY d.next_attempt_at LIMIT 16
                FOR UPDATE OF d SKIP LOCKED
                """
            ).map { row in
                (id: try row.decode(UUID.self, at: 0), payload: try row.decode(String.self, at: 1),
                 url: try row.decode(String.self, at: 2), secret: try row.decode(String.self, at: 3), attempts: try row.decode(Int.self, at: 4))
            }
            guard !due.isEmpty else { return 0 }
            let results = await withTaskGroup(of: (UUID, Int?, String?, Duration).self) { group in
                for delivery in due {
                    group.addTask {
                        let started = ContinuousClock.now
                        let body = Array(delivery.payload.utf8)
                        do {
                            let reply = try await transport.post(
                                url: delivery.url,
                                headers: [
                                    ("Content-Type", "application/json"),
                                    ("X-Pingan-Event", "warning.raised"),
                                    ("X-Pingan-Delivery", delivery.id.uuidString),
                                    ("X-Pingan-Signature", Self.signature(body: body, secret: delivery.secret)),
                                ],
                                body: body, timeout: timeout
                            )
                            let error = (200..<300).contains(reply.status) ? nil : "HTTP \(reply.status)"
                            return (delivery.id, reply.status, error, ContinuousClock.now - started)
                        } catch {
                            return (delivery.id, nil, "\(error)", ContinuousClock.now - started)
                        }
                    }
                }
                return await group.reduce(into: [UUID: (Int?, String?, Duration)]()) { $0[$1.0] = ($1.1, $1.2, $1.3) }
            }
            for delivery in due {
                guard let (status, error, duration) = results[delivery.id] else { continue }
                let millis = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
                try await transaction.query(
                    "INSERT INTO notify.attempts (delivery_id, status, error, duration_ms) VALUES ($1, $2, $3, $4)",
                    [delivery.id, status, error, millis]
                )
                if error == nil {
                    try await transaction.query(
                        "UPDATE notify.deliveries SET delivered_at = clock_timestamp(), attempts = attempts + 1, last_error = NULL WHERE id = $1",
                        [delivery.id]
                    )
                } else {
                    let attempts = delivery.attempts + 1
                    try await transaction.query(
                        """
                        UPDATE notify.deliveries SET attempts = $2, last_error = $3,
                            next_attempt_at = clock_timestamp() + make_interval(secs => $4)
                        WHERE id = $1
                        """,
                        [delivery.id, attempts, error, Self.backoff(attempts: attempts)]
                    )
                }
            }
            return due.count
        }
    }

    /// `sha256=<hex>` of HMAC-SHA256(secret, body).
    static func signature(body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    static func backoff(attempts: Int) -> Double {
        min(300.0, 0.5 * pow(2.0, Double(min(attempts - 1, 20)))) * Double.random(in: 0.5...1.0)
    }
}
