import Foundation
import Logging
import PinganConnect
import PinganContracts
import PinganDomain

/// The county's half of the index across meshes: at the interval this county's index is
/// recomputed at (`INDEX_INTERVAL_SECONDS`), a task of its own so that neither waits on the
/// other's failures, sends the city what its grid and risk services counted per village (``IndexPeers/counts(for:trace:)``),
/// through the city's gateway with the county's federation key; ``IndexFederationHandler`` is
/// the city's half.
///
/// Counts are read again from the county's own records each time, so nothing waits to be
/// sent: a round that cannot reach the city is simply tried again at the next, and what the
/// city then gets is the county's newest count. The running month is sent every round; an
/// ended month until the city has had its counts from a read after its end (up to
/// ``monthsBack`` months back), which is what lets the city freeze it.
struct CountyFactsRelay: Sendable {
    let client: ConnectClient
    /// The county's federation key (`X-Api-Key`), which the city's gateway turns into the
    /// county's principal.
    let credentials: (String, String)
    let peers: IndexPeers
    let store: CountyCountsStore
    let now: @Sendable () -> Date

    /// How far back a round looks for an ended month the city lacks: a link down for longer
    /// leaves the city's older months provisional until an operator recomputes them.
    static let monthsBack = 12
    /// How long after its end an ended month is still sent: the city takes a read time no
    /// later than its own clock, so a county whose clock runs a little ahead still sends the
    /// city a read that the city dates after the month's end.
    static let clockMargin: TimeInterval = 600

    /// Sends each month due, oldest first, and answers the months sent. A failed
    /// call ends the round and is thrown: the months after it wait for the next round.
    func round() async throws -> [Month] {
        let current = Month(containing: now())
        var sent: [Month] = []
        for month in try await store.monthsToSend(before: current, back: Self.monthsBack, margin: Self.clockMargin) + [current] {
            // Read before the counts: everything committed before it is in them.
            let readAt = now()
            let counts = try await peers.counts(for: month, trace: nil)
            var request = Pingan_Index_V1_ReceiveCountyFactsRequest()
            request.month = month.description
            request.readAt = readAt.wireTimestamp
            request.villages = counts.sorted { $0.key < $1.key }.map { $0.value.wire(village: $0.key) }
            _ = try await client.call(
                IndexFederationServiceMethods.receiveCountyFacts, request, options: CallOptions(timeout: .seconds(30), headers: [credentials])
            )
            // Taken or not (the city holds a later read), the city has this month from a read
            // at least this late.
            try await store.sent(month, readAt: readAt, now: now())
            sent.append(month)
        }
        return sent
    }
}
