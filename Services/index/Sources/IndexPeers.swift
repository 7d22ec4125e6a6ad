import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts

/// The index's view of the other services: divisions from grid, and the month's facts from
/// grid (incidents), dispute (cases) and risk (warnings), fetched as the mesh's own service.
struct IndexPeers: Sendable {
    let grid: ConnectClient
    let dispute: ConnectClient
    let risk: ConnectClient
    let verifier: PrincipalVerifier
    let root: DivisionCode

    struct MonthFacts: Sendable {
        var divisions: [(code: DivisionCode, name: String)]
        var villages: [String: GovernanceIndex.Facts]
    }

    func facts(for month: Month, trace: TraceContext?) async throws -> MonthFacts {
        let options = CallOptions(
            timeout: .seconds(30),
            headers: [verifier.header(for: .system(MeshService.index.executable, root: root))], trace: trace
        )
        var divisions: [(code: DivisionCode, name: String)] = []
        var subtree = Pingan_Grid_V1_ListSubtreeRequest()
        subtree.code = root.rawValue
        subtree.pageSize = 500
        var get = Pingan_Grid_V1_GetDivisionRequest()
        get.code = root.rawValue
        let rootDivision = try await grid.call(DivisionServiceMethods.getDivision, get, options: options).division
        divisions.append((root, rootDivision.name))
        repeat {
            let page = try await grid.call(DivisionServiceMethods.listSubtree, subtree, options: options)
            for division in page.divisions {
                if let code = try? DivisionCode(validating: division.code) { divisions.append((code, division.name)) }
            }
            subtree.pageToken = page.nextPageToken
        } while !subtree.pageToken.isEmpty

        var incidents = Pingan_Grid_V1_CountIncidentsRequest()
        incidents.rootCode = root.rawValue
        incidents.month = month.description
        var cases = Pingan_Dispute_V1_CaseFactsRequest()
        cases.rootCode = root.rawValue
        cases.month = month.description
        var warnings = Pingan_Risk_V1_WarningFactsRequest()
        warnings.rootCode = root.rawValue
        warnings.month = month.description
        async let incidentCounts = grid.call(GridServiceMethods.countIncidents, incidents, options: options)
        async let caseFacts = dispute.call(DisputeServiceMethods.caseFacts, cases, options: options)
        async let warningFacts = risk.call(RiskServiceMethods.warningFacts, warnings, options: options)

        var villages: [String: GovernanceIndex.Facts] = [:]
        for count in try await incidentCounts.counts { villages[count.villageCode, default: .init()].incidents += Int(count.incidents) }
        for fact in try await caseFacts.facts {
            villages[fact.villageCode, default: .init()].opened += Int(fact.opened)
            villages[fact.villageCode, default: .init()].resolved += Int(fact.resolved)
        }
        for fact in try await warningFacts.facts {
            villages[fact.villageCode, default: .init()].raised += Int(fact.raised)
            villages[fact.villageCode, default: .init()].acknowledged += Int(fact.acknowledged)
        }
        return MonthFacts(divisions: divisions, villages: villages)
    }
}
