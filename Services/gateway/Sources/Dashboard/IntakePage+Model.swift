import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// The one-stop window (一站式接待): a case taken in from a walk-in, the hotline, a police
/// transfer, the citizen app or a department's referral, into a village of the centre's
/// subtree (`DisputeService/IntakeCase`). Grid reports come from the grid worker's own page.
///
/// Each render carries a fresh `request_id`, and a refused form keeps its own, so a form
/// sent twice (a double click, a retried post) opens one case.
struct IntakePage {
    /// How many party rows the form has; a form without JavaScript cannot add rows, and the
    /// disputes at a window rarely name more (the API takes up to 20).
    static let partyRows = 6

    struct Option { let value: String, label: String, selected: Bool }
    /// One party's row; `number` counts from 1 for the labels a person reads.
    struct PartyRow { let index: Int, number: Int, name: String, phone: String, minor: Bool }

    /// The centre whose villages the form lists, and the way to one below it.
    let centreName: String
    let villages: [Option]
    let hasVillages: Bool
    /// Centres below the signed-in one above village level: pick one to list its villages.
    let narrower: [Option]
    let hasNarrower: Bool
    let requestID: String
    let categories: [Option]
    let sources: [Option]
    let description: String
    let parties: [PartyRow]
    let threatOfViolence: Bool, threatOfSelfHarm: Bool, violenceOccurred: Bool, repeatIncident: Bool
    let priorPoliceCalls: String
    let csrf: String
    var error = ""
    var hasError = false

    /// The sources a person takes in at a window; a grid report is the grid worker's.
    static let sources: [Pingan_Dispute_V1_CaseSource] = [.walkIn, .hotline, .policeTransfer, .departmentReferral, .citizenApp]

    /// Whether `principal` works the window: centre staff and mediators whom the API lets take
    /// cases in. A grid worker may too through the API, but reports from the grid page, and a
    /// department's system refers cases through its own; neither is offered the window.
    static func isOffered(to principal: Principal) -> Bool {
        (principal.has(.staff) || principal.has(.mediator)) && MethodRoles.allows(principal, DisputeServiceMethods.intakeCase.path)
    }

    /// The form, empty or with what was typed (`typed`) when the service refused it.
    ///
    /// - Parameter within: a centre below the signed-in one whose villages to list; the
    ///   signed-in centre itself when empty.
    static func load(
        within: DivisionCode, for principal: Principal, csrf: String, typed: [String: String] = [:], client: DashboardClient
    ) async throws -> IntakePage {
        let division = try await client.call(DivisionServiceMethods.getDivision, .with { $0.code = within.rawValue }).division
        var villages: [Pingan_Grid_V1_Division] = []
        var narrower: [Pingan_Grid_V1_Division] = []
        switch within.level {
        case .village: villages = [division]
        case .township: villages = try await client.call(DivisionServiceMethods.listChildren, .with { $0.code = within.rawValue; $0.pageSize = 500 }).divisions
        case .county, .city: narrower = try await client.call(DivisionServiceMethods.listChildren, .with { $0.code = within.rawValue; $0.pageSize = 500 }).divisions
        }
        let chosen = typed["village"] ?? ""
        let category = typed["category"] ?? ""
        let source = typed["source"] ?? String(Pingan_Dispute_V1_CaseSource.walkIn.rawValue)
        return IntakePage(
            centreName: division.name,
            villages: villages.map { Option(value: $0.code, label: $0.name, selected: $0.code == chosen) }, hasVillages: !villages.isEmpty,
            narrower: narrower.map { Option(value: $0.code, label: $0.name, selected: false) }, hasNarrower: !narrower.isEmpty,
            requestID: typed["request_id"].flatMap { UUID(uuidString: $0)?.uuidString.lowercased() } ?? UUID().uuidString.lowercased(),
            categories: CaseForms.categoryOptions(selected: category).map { Option(value: $0.value, label: $0.label, selected: $0.selected) },
            sources: sources.map { Option(value: String($0.rawValue), label: Labels.source($0), selected: String($0.rawValue) == source) },
            description: typed["description"] ?? "",
            parties: (0..<partyRows).map { index in
                PartyRow(index: index, number: index + 1, name: typed["party_name_\(index)"] ?? "", phone: typed["party_phone_\(index)"] ?? "",
                         minor: typed["party_minor_\(index)"] != nil)
            },
            threatOfViolence: typed["threat_of_violence"] != nil, threatOfSelfHarm: typed["threat_of_self_harm"] != nil,
            violenceOccurred: typed["violence_occurred"] != nil, repeatIncident: typed["repeat_incident"] != nil,
            priorPoliceCalls: typed["prior_police_calls"] ?? "0",
            csrf: csrf
        )
    }

    /// The request a filled form makes. Rows without a name are left out.
    static func request(from form: [String: String]) -> Pingan_Dispute_V1_IntakeCaseRequest {
        .with { request in
            request.requestID = form["request_id"] ?? ""
            request.villageCode = (form["village"] ?? "").trimmingCharacters(in: .whitespaces)
            request.category = Pingan_Grid_V1_IncidentCategory(rawValue: Int(form["category"] ?? "") ?? 0) ?? .unspecified
            request.source = Pingan_Dispute_V1_CaseSource(rawValue: Int(form["source"] ?? "") ?? 0) ?? .unspecified
            request.description_p = form["description"] ?? ""
            request.parties = (0..<partyRows).compactMap { index in
                let name = (form["party_name_\(index)"] ?? "").trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty else { return nil }
                return .with {
                    $0.name = name
                    $0.phone = (form["party_phone_\(index)"] ?? "").trimmingCharacters(in: .whitespaces)
                    $0.minor = form["party_minor_\(index)"] != nil
                }
            }
            request.threatOfViolence = form["threat_of_violence"] != nil
            request.threatOfSelfHarm = form["threat_of_self_harm"] != nil
            request.violenceOccurred = form["violence_occurred"] != nil
            request.repeatIncident = form["repeat_incident"] != nil
            request.priorPoliceCalls = Int32(clamping: Int((form["prior_police_calls"] ?? "").trimmingCharacters(in: .whitespaces)) ?? 0)
        }
    }
}
