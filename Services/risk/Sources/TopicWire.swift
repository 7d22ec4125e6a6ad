import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

// The topic database's values to and from the generated messages.

extension TopicIncident {
    /// The incident an `AssessCase` event describes. A party key that is not one dispute-service
    /// makes is refused naming `party_keys`: the event is parked where an operator sees it,
    /// rather than a person silently left unmatched.
    init(_ request: Pingan_Risk_V1_AssessCaseRequest, assessed: AssessedCase, now: Date) throws {
        guard request.partyKeys.count <= 100 else { throw ConnectError.invalidArgument(field: "party_keys", "at most 100 keys") }
        var keys: [PartyKey] = []
        for text in request.partyKeys {
            guard let key = PartyKey(text) else { throw ConnectError.invalidArgument(field: "party_keys", "\"\(text.prefix(80))\" is not a kind, a colon and 64 lowercase hex digits") }
            keys.append(key)
        }
        self.init(
            caseID: assessed.id, village: assessed.village, category: request.category, source: request.source,
            openedAt: assessed.facts.openedAt ?? now, closed: request.closed, partyKeys: Array(Set(keys)).sorted(),
            partiesErased: request.personalDataErased
        )
    }
}

extension CaseLink {
    var wire: Pingan_Risk_V1_CaseLink {
        var link = Pingan_Risk_V1_CaseLink()
        link.caseID = incident.caseID.wire
        link.villageCode = incident.village.rawValue
        link.category = incident.category
        link.source = incident.source
        link.openedAt = incident.openedAt.wireTimestamp
        link.closed = incident.closed
        link.confidence = Int32(confidence)
        link.matchedOn = matchedOn.map(\.rawValue)
        return link
    }
}

extension IncidentCount {
    var wire: Pingan_Risk_V1_IncidentCount {
        var count = Pingan_Risk_V1_IncidentCount()
        count.villageCode = village.rawValue
        count.category = category
        count.week = week
        count.count = Int32(clamping: self.count)
        return count
    }
}
