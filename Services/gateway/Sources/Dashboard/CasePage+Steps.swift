import Foundation
import Hummingbird
import PinganConnect
import PinganContracts

extension CasePage {
    /// `POST /ui/cases/:id/steps/:step`, one form per step of a case (``CaseForms/steps``),
    /// each one DisputeService method called as the signed-in person. Done: back to the case
    /// saying what was done. Refused in a way the person can act on: the case page again,
    /// answered 4xx, with the reason beside the form and what was typed still in it.
    static func stepRoutes(_ cases: RouterGroup<PageContext>, now: @escaping @Sendable () -> Date) {
        cases.post(":id/steps/:step") { _, context in
            let visitor = try context.requireVisitor()
            let id = try context.parameters.require("id"), step = try context.parameters.require("step")
            guard CaseForms.steps.contains(step) else { return Dashboard.message(status: .notFound, "没有这个页面。", visitor.session) }
            let form = context.form
            do {
                try await take(step, on: id, form: form, client: visitor.client)
                return Dashboard.redirect("\(address(of: id))?done=\(step)#\(anchor(of: step))")
            } catch let error as ConnectError {
                // The case is read first, so a case the person may not see is "not found"
                // whatever the step said; then the refusal is said beside its form.
                let page = try await load(id: id, reveal: false, for: visitor.session.principal, csrf: visitor.session.csrf, now: now(),
                                          client: visitor.client, typed: form, refused: (step, error))
                guard !page.refusedForm.isEmpty else { throw error }
                return Dashboard.page(status: CaseRefusals.status(error), "案件", page.render(), visitor.session)
            }
        }
    }

    /// Calls the method of `step` with the form's fields.
    static func take(_ step: String, on id: String, form: [String: String], client: DashboardClient) async throws {
        func text(_ name: String) -> String { form[name] ?? "" }
        func number(_ name: String) -> Int { Int(text(name).trimmingCharacters(in: .whitespaces)) ?? 0 }
        switch step {
        case "start-rung":
            _ = try await client.call(DisputeServiceMethods.startRung, .with {
                $0.caseID = id
                $0.rung = Pingan_Dispute_V1_Rung(rawValue: number("rung")) ?? .unspecified
                $0.kind = Pingan_Dispute_V1_MediationKind(rawValue: number("kind")) ?? .unspecified
                $0.lead = text("lead")
                $0.participants = CaseForms.names(form["participants"])
                $0.bodies = CaseForms.names(form["bodies"])
                $0.skipReason = text("skip_reason")
            })
        case "end-rung":
            let outcome = Pingan_Dispute_V1_RungOutcome(rawValue: number("outcome")) ?? .unspecified
            _ = try await client.call(DisputeServiceMethods.endRung, .with {
                $0.caseID = id
                $0.attemptID = text("attempt_id")
                $0.outcome = outcome
                $0.note = text("note")
                // The agreement's fields stand on the form whatever the outcome; only a
                // settlement sends them, since the service refuses an agreement with any other.
                if outcome == .settled {
                    $0.agreement = .with {
                        $0.terms = text("terms")
                        $0.signedOn = text("signed_on").trimmingCharacters(in: .whitespaces)
                        $0.signatories = CaseForms.names(form["signatories"])
                    }
                }
            })
        case "return-visit":
            _ = try await client.call(DisputeServiceMethods.recordReturnVisit, .with {
                $0.caseID = id
                $0.outcome = Pingan_Dispute_V1_ReturnVisitOutcome(rawValue: number("outcome")) ?? .unspecified
                $0.note = text("note")
            })
        case "summon":
            let chosen = form.keys.filter { $0.hasPrefix("department_") }.map { String($0.dropFirst("department_".count)) }.sorted()
            _ = try await client.call(DisputeServiceMethods.summonDepartments, .with { $0.caseID = id; $0.departmentIds = chosen })
        case "escalate":
            _ = try await client.call(DisputeServiceMethods.escalateCase, .with { $0.caseID = id; $0.reason = text("text") })
        case "request-escalation":
            _ = try await client.call(DisputeServiceMethods.requestEscalation, .with { $0.caseID = id; $0.reason = text("text") })
        case "hand-back":
            _ = try await client.call(DisputeServiceMethods.handBackCase, .with { $0.caseID = id; $0.note = text("text") })
        case "major":
            _ = try await client.call(DisputeServiceMethods.markMajorDispute, .with {
                $0.caseID = id
                $0.departments = CaseForms.names(form["departments"])
                $0.residentRepresentatives = Int32(clamping: number("representatives"))
            })
        case "reclassify":
            _ = try await client.call(DisputeServiceMethods.reclassifyCase, .with {
                $0.caseID = id
                $0.category = Pingan_Grid_V1_IncidentCategory(rawValue: number("category")) ?? .unspecified
                $0.reason = text("reason")
            })
        case "resolve":
            _ = try await client.call(DisputeServiceMethods.resolveCase, .with { $0.caseID = id; $0.outcome = text("text") })
        default:
            throw HTTPError(.notFound)
        }
    }

    /// The case page's address, its id escaped for the path.
    static func address(of id: String) -> String {
        "/ui/cases/" + (id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-"])) ?? "")
    }

    /// The section of the case page a step's result shows in.
    static func anchor(of step: String) -> String {
        switch step {
        case "start-rung", "end-rung": "rungs"
        case "return-visit": "agreement"
        case "summon": "summons"
        default: "steps"
        }
    }

    /// What a step just done did, by the step its redirect names.
    static func notice(_ step: String) -> String {
        switch step {
        case "start-rung": "已开始调解，期限见下表。"
        case "end-rung": "已登记本级调解结果。"
        case "return-visit": "已登记回访。"
        case "summon": "已召集部门，报到和反馈期限见下。"
        case "escalate": "已上报上级中心统筹。"
        case "request-escalation": "已提请统筹中心上报，并通知该中心。"
        case "hand-back": "已交回下级中心。"
        case "major": "已按重大纠纷（1350工作法）登记。"
        case "reclassify": "已更正纠纷类别。"
        case "resolve": "已办结。"
        case "intake": "已受理，案件已立案。"
        case "joined": "当事人在该村已有案件：本次接待已并入该案件。"
        default: ""
        }
    }
}
