import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts

/// A checked incident report, ready to store.
struct IncidentReport: Sendable {
    let gridID: UUID
    let reporterID: UUID
    let category: Pingan_Grid_V1_IncidentCategory
    let request: Pingan_Grid_V1_ReportIncidentRequest

    /// Validates `request`; the first bad field is named in `invalid_argument`.
    init(validating request: Pingan_Grid_V1_ReportIncidentRequest) throws {
        gridID = try UUID.field(request.gridID, "grid_id")
        reporterID = try UUID.field(request.reporterMemberID, "reporter_member_id")
        category = try ReportFields.category(request.category)
        let description = try ReportFields.description(request.description_p)
        try ReportFields.parties(request.parties)
        try ReportFields.priorPoliceCalls(request.priorPoliceCalls)
        var cleaned = request
        cleaned.description_p = description
        self.request = cleaned
    }
}

/// An incident reported from a grid, as grid-service keeps it: how many people, never who.
struct Incident: Sendable {
    let id: UUID
    let village: DivisionCode
    let report: IncidentReport
    var reportedAt: Date?

    init(report: IncidentReport, village: DivisionCode, id: UUID = UUID.random()) {
        self.id = id
        self.village = village
        self.report = report
    }
}

/// A grid: the smallest unit of the territory, inside one village.
struct Grid: Sendable {
    let id: UUID
    let village: DivisionCode
    let name: String
}

/// A person who works in a grid (网格员, 治调主任, …), as a centre lists them.
struct GridMember: Sendable {
    let id: UUID
    let grid: UUID
    let name: String
    let role: Pingan_Grid_V1_GridRole

    /// The member as a response carries it: the name masked, as everywhere.
    var wire: Pingan_Grid_V1_GridMember {
        var member = Pingan_Grid_V1_GridMember()
        member.id = id.wire
        member.gridID = grid.wire
        member.name = Masking.name(name)
        member.role = role
        return member
    }
}

extension Pingan_Grid_V1_GridRole {
    var storedName: String? {
        switch self {
        case .gridWorker: "grid_worker"
        case .mediationDirector: "mediation_director"
        case .politicalLegalOfficer: "political_legal_officer"
        case .safetyVolunteer: "safety_volunteer"
        case .unspecified, .UNRECOGNIZED: nil
        }
    }

    init(storedName: String) {
        switch storedName {
        case "grid_worker": self = .gridWorker
        case "mediation_director": self = .mediationDirector
        case "political_legal_officer": self = .politicalLegalOfficer
        case "safety_volunteer": self = .safetyVolunteer
        default: self = .unspecified
        }
    }
}
