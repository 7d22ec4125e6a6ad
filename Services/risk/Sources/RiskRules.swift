import PinganContracts

/// The transparent rule that scores a case from its facts. Every point comes from a named
/// rule with an explanation, stored with the score, so anyone can see why a case was judged
/// high-risk (智能风险预警模型, kept deliberately simple and explainable).
///
/// | rule | points |
/// |---|---|
/// | category base: land, demolition 15; marriage & family, neighbour, debt 10; other 5 | 5–15 |
/// | threat of violence | 40 |
/// | threat of self-harm | 40 |
/// | repeat incident | 15 |
/// | prior police calls | 5 each, at most 20 |
/// | minors involved | 10 |
/// | more than five people involved | 10 |
///
/// The score is capped at 100. The warning threshold is configurable (`RISK_THRESHOLD`,
/// default 60): a threat of violence alone on a neighbour dispute (50) does not warn; with a
/// repeat incident (65) it does.
enum RiskRules {
    struct Scored: Sendable {
        let score: Int
        let reasons: [Pingan_Risk_V1_Reason]
    }

    static func score(_ facts: Pingan_Risk_V1_AssessCaseRequest) -> Scored {
        var reasons: [Pingan_Risk_V1_Reason] = []
        func add(_ rule: String, _ points: Int, _ explanation: String) {
            guard points > 0 else { return }
            var reason = Pingan_Risk_V1_Reason()
            reason.rule = rule
            reason.points = Int32(points)
            reason.explanation = explanation
            reasons.append(reason)
        }
        let (base, label) = categoryBase(facts.category)
        add("category", base, "\(label) disputes start at \(base)")
        if facts.threatOfViolence { add("threat_of_violence", 40, "a threat of violence was reported") }
        if facts.threatOfSelfHarm { add("threat_of_self_harm", 40, "a threat of self-harm was reported") }
        if facts.repeatIncident { add("repeat_incident", 15, "the same parties have clashed before") }
        let police = min(20, 5 * Int(max(0, facts.priorPoliceCalls)))
        add("prior_police_calls", police, "\(facts.priorPoliceCalls) earlier police call(s), 5 points each up to 20")
        if facts.minorsInvolved { add("minors_involved", 10, "minors are involved") }
        if facts.partyCount > 5 { add("many_parties", 10, "\(facts.partyCount) people are involved") }
        let total = min(100, reasons.reduce(0) { $0 + Int($1.points) })
        return Scored(score: total, reasons: reasons)
    }

    private static func categoryBase(_ category: Pingan_Grid_V1_IncidentCategory) -> (Int, String) {
        switch category {
        case .land: (15, "land")
        case .demolitionCompensation: (15, "demolition and compensation")
        case .marriageFamily: (10, "marriage and family")
        case .neighbour: (10, "neighbour")
        case .economicDebt: (10, "economic and debt")
        case .propertyManagement: (5, "property management")
        default: (5, "other")
        }
    }
}
