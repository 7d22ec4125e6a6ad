@testable import IndexService

extension MonthStore {
    /// Publishes scores computed whole, as one family.
    func publish(_ publication: Publication, scored: [GovernanceIndex.Scored]) async throws -> MonthVersion {
        try await publish(publication, scores: AsyncThrowingStream { families in
            families.yield(scored)
            families.finish()
        })
    }
}
