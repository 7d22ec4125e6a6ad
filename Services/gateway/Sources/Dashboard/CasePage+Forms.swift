import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// Where a centre stands to a case, as dispute-service's table of case actions
/// (`Rules/CaseActions.swift`) decides it: the coordinating centre, a centre below it, or
/// neither. The dashboard reads it from the case to offer only the forms that apply; the
/// service decides again on every form, so an offer is never a permission.
enum CaseSeat: Sendable, Equatable {
    case coordinator
    case belowCoordinator
    case elsewhere

    init(of centre: DivisionCode, coordinator: String) {
        guard let coordinator = try? DivisionCode(validating: coordinator) else { self = .elsewhere; return }
        if centre == coordinator {
            self = .coordinator
        } else if coordinator.contains(centre) {
            self = .belowCoordinator
        } else {
            self = .elsewhere
        }
    }
}

/// The ladder as dispute-service climbs it (``MediationRules``), read from a case's attempts:
/// which rung is next, and which a centre's level may run. Only for offering the forms.
enum LadderOffer {
    /// How many eased attempts at a rung, without a settlement, make it count as failed.
    static let easedAttemptsToFail = 2

    /// The next rung: the finder's first; the same one after it eased or its settlement came
    /// undone; the one above after it failed; `nil` when the fifth failed (escalate instead).
    static func next(after attempts: [Pingan_Dispute_V1_RungAttempt]) -> Int? {
        guard let last = attempts.last else { return 1 }
        let rung = last.rung.rawValue
        guard failed(rung, in: attempts) else { return rung }
        return rung < 5 ? rung + 1 : nil
    }

    static func failed(_ rung: Int, in attempts: [Pingan_Dispute_V1_RungAttempt]) -> Bool {
        let atRung = attempts.filter { $0.rung.rawValue == rung }
        guard let latest = atRung.last else { return false }
        if latest.outcome == .failed { return true }
        return latest.outcome == .eased && eased(rung, in: attempts) >= easedAttemptsToFail
    }

    /// Attempts at `rung` that eased tension since it last settled.
    static func eased(_ rung: Int, in attempts: [Pingan_Dispute_V1_RungAttempt]) -> Int {
        let atRung = attempts.filter { $0.rung.rawValue == rung }
        let since = atRung.lastIndex(where: { $0.outcome == .settled }).map { atRung[($0 + 1)...] } ?? atRung[...]
        return since.filter { $0.outcome == .eased }.count
    }

    /// Whether a centre of `level` runs `rung`: rungs 1–2 the village centre or above, 3–5
    /// the township centre or above.
    static func runs(_ rung: Int, at level: DivisionLevel) -> Bool {
        level <= (rung <= 2 ? .village : .township)
    }
}

/// The forms of a case page for the signed-in person at their centre: one per step they may
/// take now, each with what was typed when the service refused it and the reason beside it.
struct CaseForms {
    /// A choice in a select, radio group or checkbox list.
    struct Option { let value: String, label: String, selected: Bool }
    /// A refusal, beside the form that asked (`form` is its step, as in the address).
    struct Refusal: Sendable { let form: String, message: String }

    struct StartRung {
        let rungs: [Option], kinds: [Option]
        let lead: String, participants: String, bodies: String, skipReason: String
        let hint: String
        let error: String, hasError: Bool
    }
    struct EndRung {
        let attemptID: String, rung: String, outcomes: [Option]
        let note: String, terms: String, signedOn: String, signatories: String
        let error: String, hasError: Bool
    }
    struct ReturnVisit { let outcomes: [Option], note: String, error: String, hasError: Bool }
    struct Summon { let departments: [Option], error: String, hasError: Bool }
    /// Escalate, ask to escalate, hand back, resolve: one reason or note and a button.
    struct Reasoned { let step: String, title: String, explain: String, label: String, button: String, text: String, error: String, hasError: Bool }
    struct Major { let departments: String, representatives: String, error: String, hasError: Bool }
    struct Reclassify { let categories: [Option], reason: String, error: String, hasError: Bool }

    var startRungForm: StartRung?
    var endRungForm: EndRung?
    var returnVisitForm: ReturnVisit?
    var summonForm: Summon?
    /// Escalate or ask to escalate, hand back, resolve: each when it applies, in that order.
    var reasoned: [Reasoned] = []
    var majorForm: Major?
    var reclassifyForm: Reclassify?
    /// Why the ladder offers no rung to this centre now, when it offers none.
    var ladderHint = ""
    /// A refusal of a form the page does not offer (one posted from elsewhere), shown on top.
    var otherError = ""

    /// Flags the template tests: mustache reads stored properties only, so ``offered`` sets them.
    var hasLadderHint = false, hasOtherError = false, hasLevelForms = false

    /// Every step of a case, by the last part of its form's address.
    static let steps = ["start-rung", "end-rung", "return-visit", "summon", "escalate", "request-escalation", "hand-back", "major", "reclassify", "resolve"]

    /// The forms `principal` is offered on `file`: by their roles (the method table the
    /// gateway applies), where their centre stands to the case, its status and its ladder.
    ///
    /// - Parameters:
    ///   - departments: those the centre may summon to this case (registered at it or below,
    ///     and serving the case's village); empty when it may not summon.
    ///   - typed: the fields of the form just refused, kept in it; `refusal` says which.
    ///   - place: a division's name by its code.
    static func offered(
        on file: Pingan_Dispute_V1_GetCaseResponse, to principal: Principal, departments: [Pingan_Dispute_V1_Department],
        typed: [String: String] = [:], refusal: Refusal? = nil, today: String, place: (String) -> String
    ) -> CaseForms {
        let record = file.case
        let seat = CaseSeat(of: principal.centre, coordinator: record.coordinatorCode)
        let open = record.status == .open
        let mediates = seat != .elsewhere
        func may(_ method: String) -> Bool { MethodRoles.allows(principal, method) }
        func kept(_ form: String) -> [String: String] { refusal?.form == form ? typed : [:] }
        func error(_ form: String) -> String { refusal?.form == form ? refusal?.message ?? "" : "" }
        var forms = CaseForms()
        var shown: Set<String> = []

        let openAttempt = file.rungs.last(where: { $0.endedAt.isEmpty })
        if open, mediates, may(DisputeServiceMethods.startRung.path), openAttempt == nil {
            let values = kept("start-rung")
            if let next = LadderOffer.next(after: file.rungs) {
                let runnable = (next...5).filter { LadderOffer.runs($0, at: principal.centre.level) }
                if runnable.isEmpty {
                    forms.ladderHint = "下一步是\(CaseWords.ordinal(next))调解，由乡镇（街道）中心开展；如需上级支持，可提请统筹中心上报。"
                } else {
                    let chosen = Int(values["rung"] ?? "") ?? runnable[0]
                    let eased = LadderOffer.eased(next, in: file.rungs)
                    forms.startRungForm = StartRung(
                        rungs: runnable.map { rung in
                            let label = Labels.rung(Pingan_Dispute_V1_Rung(rawValue: rung) ?? .unspecified)
                            return Option(value: String(rung), label: rung == next ? label + "（下一级）" : label + "（跳级，须填写理由）", selected: rung == chosen)
                        },
                        kinds: kindOptions(selected: values["kind"] ?? "1"),
                        lead: values["lead"] ?? "", participants: values["participants"] ?? "", bodies: values["bodies"] ?? "",
                        skipReason: values["skip_reason"] ?? "",
                        hint: eased > 0 ? "\(CaseWords.ordinal(next))已缓和 \(eased) 次；再次不成功或缓和满 \(LadderOffer.easedAttemptsToFail) 次后开启上一级。" : "",
                        error: error("start-rung"), hasError: !error("start-rung").isEmpty
                    )
                    shown.insert("start-rung")
                }
            } else {
                forms.ladderHint = "五级调解均未成功：请将案件上报上级中心统筹。"
            }
        }
        if open, mediates, may(DisputeServiceMethods.endRung.path), let attempt = openAttempt,
           LadderOffer.runs(attempt.rung.rawValue, at: principal.centre.level) {
            let values = kept("end-rung")
            let outcome = values["outcome"] ?? ""
            forms.endRungForm = EndRung(
                attemptID: attempt.id, rung: Labels.rung(attempt.rung),
                outcomes: [Pingan_Dispute_V1_RungOutcome.settled, .eased, .failed].map {
                    Option(value: String($0.rawValue), label: CaseWords.outcome($0), selected: outcome == String($0.rawValue))
                },
                note: values["note"] ?? "", terms: values["terms"] ?? "", signedOn: values["signed_on"] ?? today,
                signatories: values["signatories"] ?? "", error: error("end-rung"), hasError: !error("end-rung").isEmpty
            )
            shown.insert("end-rung")
        }
        if record.status == .settled, mediates, may(DisputeServiceMethods.recordReturnVisit.path),
           file.hasReturnVisit, file.returnVisit.visitedAt.isEmpty {
            let values = kept("return-visit")
            forms.returnVisitForm = ReturnVisit(
                outcomes: [Pingan_Dispute_V1_ReturnVisitOutcome.confirmed, .unsettled].map {
                    Option(value: String($0.rawValue), label: CaseWords.returnVisit($0), selected: values["outcome"] == String($0.rawValue))
                },
                note: values["note"] ?? "", error: error("return-visit"), hasError: !error("return-visit").isEmpty
            )
            shown.insert("return-visit")
        }
        if open, seat == .coordinator, may(DisputeServiceMethods.summonDepartments.path), !departments.isEmpty {
            let values = kept("summon")
            let waiting = Set(file.summons.filter { $0.fedBackAt.isEmpty }.map(\.departmentID))
            let free = departments.filter { !waiting.contains($0.id) }
            if !free.isEmpty {
                forms.summonForm = Summon(
                    departments: free.map { Option(value: $0.id, label: $0.name, selected: values["department_\($0.id)"] != nil) },
                    error: error("summon"), hasError: !error("summon").isEmpty
                )
                shown.insert("summon")
            }
        }
        func reasoned(_ step: String, _ title: String, _ explain: String, _ label: String, _ button: String) {
            let message = error(step)
            forms.reasoned.append(Reasoned(step: step, title: title, explain: explain, label: label, button: button,
                                           text: kept(step)["text"] ?? "", error: message, hasError: !message.isEmpty))
            shown.insert(step)
        }
        let coordinator = try? DivisionCode(validating: record.coordinatorCode)
        if open, let coordinator, let above = coordinator.parent {
            if seat == .coordinator, may(DisputeServiceMethods.escalateCase.path) {
                reasoned("escalate", "上报上级中心", "由\(place(above.rawValue))统筹本案，并通知其中心。", "上报理由", "上报\(place(above.rawValue))")
            }
            if seat == .belowCoordinator, may(DisputeServiceMethods.requestEscalation.path) {
                reasoned("request-escalation", "提请上报", "本案由\(place(coordinator.rawValue))统筹；不得越级上报，可提请它上报上级中心。", "提请理由",
                         "提请\(place(coordinator.rawValue))上报")
            }
        }
        if let coordinator, let village = try? DivisionCode(validating: record.villageCode), coordinator != village.owningCentre,
           seat == .coordinator, may(DisputeServiceMethods.handBackCase.path) {
            reasoned("hand-back", "交回下级中心", "本案已上报至本中心；协调完毕后交回下一级中心继续办理。", "交回说明", "交回下级中心")
        }
        if seat == .coordinator, may(DisputeServiceMethods.markMajorDispute.path) {
            let values = kept("major")
            forms.majorForm = Major(
                departments: values["departments"] ?? record.majorDepartments.joined(separator: "、"),
                representatives: values["representatives"] ?? (record.residentRepresentatives > 0 ? String(record.residentRepresentatives) : ""),
                error: error("major"), hasError: !error("major").isEmpty
            )
            shown.insert("major")
        }
        if mediates, may(DisputeServiceMethods.reclassifyCase.path) {
            let values = kept("reclassify")
            let chosen = values["category"] ?? String(record.category.rawValue)
            forms.reclassifyForm = Reclassify(
                categories: categoryOptions(selected: chosen), reason: values["reason"] ?? "",
                error: error("reclassify"), hasError: !error("reclassify").isEmpty
            )
            shown.insert("reclassify")
        }
        if open, may(DisputeServiceMethods.resolveCase.path) {
            reasoned("resolve", "办结（不经调解协议）", "当事人撤回、查明不属于纠纷等，无需调解即可办结；须写明结果。", "办结结果", "办结本案")
        }
        if !record.federatedFrom.isEmpty {
            // A county's case copied to the city changes in the county's mesh only; the city,
            // coordinating it, hands it back there (the order crosses the link).
            forms = CaseForms(reasoned: forms.reasoned.filter { $0.step == "hand-back" })
            shown = Set(forms.reasoned.map(\.step))
        }
        if let refusal, !shown.contains(refusal.form) { forms.otherError = refusal.message }
        forms.hasLadderHint = !forms.ladderHint.isEmpty
        forms.hasOtherError = !forms.otherError.isEmpty
        forms.hasLevelForms = !forms.reasoned.isEmpty || forms.majorForm != nil || forms.reclassifyForm != nil
        return forms
    }

    static func kindOptions(selected: String) -> [Option] {
        [Pingan_Dispute_V1_MediationKind.peoples, .administrative, .arbitration, .judicial, .other].map {
            Option(value: String($0.rawValue), label: CaseWords.kind($0), selected: selected == String($0.rawValue))
        }
    }

    static func categoryOptions(selected: String) -> [Option] {
        [Pingan_Grid_V1_IncidentCategory.marriageFamily, .neighbour, .economicDebt, .land, .demolitionCompensation, .propertyManagement, .other].map {
            Option(value: String($0.rawValue), label: Labels.category($0), selected: selected == String($0.rawValue))
        }
    }

    /// Names typed in one field, separated by 、 , ， ; ； or new lines; blanks dropped.
    static func names(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: { "、,，;；\n\r".contains($0) })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
