import PinganContracts

/// Who may call each method: the one table the services enforce (through
/// ``PrincipalVerifier/principal(_:for:)``), docs/integrating.md prints and the tests check against
/// every method of the contracts.
///
/// A role lets its holder call a method for records and divisions in the subtree of the
/// centre it acts for; the method itself decides the rest (a rung's level, a summoned
/// department, the root centre for the whole deployment's index).
public enum MethodRoles {
    public enum Rule: Sendable, Equatable {
        /// People or department systems holding one of these roles (the mesh's own services too).
        case anyOf(Set<Role>)
        /// The mesh's own services only: event deliveries and the index's questions.
        case system
        /// Anyone, signed in or not: published reference data.
        case `public`
        /// Signing in, which is what a caller does before it has a principal.
        case signIn
    }

    static let reads: Set<Role> = [.staff, .mediator, .leader]
    static let office: Set<Role> = [.leader, .staff, .admin]

    public static let rules: [String: Rule] = [
        AuthServiceMethods.login.path: .signIn,
        // Accounts and API keys of the administrator's subtree (the gateway serves these itself).
        AdminServiceMethods.listUsers.path: .anyOf([.admin]),
        AdminServiceMethods.createUser.path: .anyOf([.admin]),
        AdminServiceMethods.setUserRoles.path: .anyOf([.admin]),
        AdminServiceMethods.disableUser.path: .anyOf([.admin]),
        AdminServiceMethods.enableUser.path: .anyOf([.admin]),
        AdminServiceMethods.resetPassword.path: .anyOf([.admin]),
        AdminServiceMethods.issueApiKey.path: .anyOf([.admin]),
        AdminServiceMethods.listApiKeys.path: .anyOf([.admin]),
        AdminServiceMethods.revokeApiKey.path: .anyOf([.admin]),
        AdminServiceMethods.listAdminAudit.path: .anyOf([.admin]),
        HealthMethods.check.path: .public,

        DivisionServiceMethods.getDivision.path: .public,
        DivisionServiceMethods.batchGetDivisions.path: .public,
        DivisionServiceMethods.listChildren.path: .public,
        DivisionServiceMethods.listSubtree.path: .public,
        DivisionServiceMethods.importDivisions.path: .anyOf([.admin]),
        // Setting up grids and who works in them is the centre's administrator's job.
        GridServiceMethods.createGrid.path: .anyOf([.admin]),
        GridServiceMethods.listGrids.path: .anyOf([.admin, .gridWorker, .leader, .staff]),
        GridServiceMethods.addGridMember.path: .anyOf([.admin]),
        GridServiceMethods.listGridMembers.path: .anyOf(office),
        GridServiceMethods.reportIncident.path: .anyOf([.gridWorker, .staff]),
        GridServiceMethods.recordScreening.path: .anyOf([.gridWorker, .staff]),
        GridServiceMethods.countIncidents.path: .anyOf([.leader, .staff]),
        GridServiceMethods.screeningFacts.path: .anyOf([.leader, .staff]),

        DisputeServiceMethods.openCase.path: .system,
        DisputeServiceMethods.intakeCase.path: .anyOf([.staff, .mediator, .gridWorker, .department]),
        DisputeServiceMethods.getCase.path: .anyOf(reads.union([.department])),
        DisputeServiceMethods.listCaseReports.path: .anyOf(reads.union([.department])),
        DisputeServiceMethods.listMyReports.path: .anyOf([.gridWorker, .staff]),
        DisputeServiceMethods.listMySummons.path: .anyOf([.department]),
        DisputeServiceMethods.listCaseTimeline.path: .anyOf(reads.union([.department])),
        DisputeServiceMethods.listCases.path: .anyOf(reads.union([.department])),
        // A department's system has its own summons (ListMySummons), not a centre's list.
        DisputeServiceMethods.listDueSteps.path: .anyOf(reads),
        DisputeServiceMethods.exportCases.path: .anyOf(reads),
        DisputeServiceMethods.resolveCase.path: .anyOf([.staff, .mediator]),
        DisputeServiceMethods.caseFacts.path: .anyOf([.leader, .staff]),
        DisputeServiceMethods.startRung.path: .anyOf([.staff, .mediator, .gridWorker]),
        DisputeServiceMethods.endRung.path: .anyOf([.staff, .mediator, .gridWorker]),
        DisputeServiceMethods.recordReturnVisit.path: .anyOf([.staff, .mediator, .gridWorker]),
        DisputeServiceMethods.registerDepartment.path: .anyOf([.admin]),
        DisputeServiceMethods.listDepartments.path: .anyOf([.admin, .leader, .mediator, .staff]),
        DisputeServiceMethods.summonDepartments.path: .anyOf([.staff, .mediator]),
        DisputeServiceMethods.reportToSummons.path: .anyOf([.department]),
        DisputeServiceMethods.feedBackOnSummons.path: .anyOf([.department]),
        DisputeServiceMethods.escalateCase.path: .anyOf([.staff, .mediator, .leader]),
        DisputeServiceMethods.requestEscalation.path: .anyOf([.staff, .mediator, .leader]),
        DisputeServiceMethods.handBackCase.path: .anyOf([.staff, .mediator, .leader]),
        DisputeServiceMethods.markMajorDispute.path: .anyOf([.staff, .mediator]),
        DisputeServiceMethods.reclassifyCase.path: .anyOf([.staff, .mediator]),
        DisputeServiceMethods.loadCalendar.path: .anyOf([.admin]),
        // Residents' requests: an app files with its key; the public reads carry no personal
        // data; the filer's own reads and ratings come from the gateway's resident pages only,
        // once it checked the filer's one-time code or rating link.
        // A county mesh's relay, with the key the city issued for the county.
        FederationServiceMethods.receiveCases.path: .anyOf([.federation]),
        IndexFederationServiceMethods.receiveCountyFacts.path: .anyOf([.federation]),
        FederationServiceMethods.listFederatedCounties.path: .anyOf(reads),
        ResidentServiceMethods.fileRequest.path: .anyOf([.residentApp]),
        ResidentServiceMethods.getRequest.path: .anyOf(reads.union([.residentApp])),
        ResidentServiceMethods.findRequestByToken.path: .anyOf(reads.union([.residentApp])),
        ResidentServiceMethods.listRequests.path: .anyOf(reads.union([.residentApp])),
        ResidentServiceMethods.getOwnRequest.path: .system,
        ResidentServiceMethods.listOwnRequests.path: .system,
        ResidentServiceMethods.rateRequest.path: .system,
        ResidentServiceMethods.listTriage.path: .anyOf(reads),
        ResidentServiceMethods.placeRequest.path: .anyOf([.staff, .mediator]),

        RiskServiceMethods.assessCase.path: .system,
        RiskServiceMethods.getAssessment.path: .anyOf(reads),
        RiskServiceMethods.listWarnings.path: .anyOf(reads),
        RiskServiceMethods.getWarning.path: .anyOf(reads),
        RiskServiceMethods.acknowledgeWarning.path: .anyOf([.staff, .mediator]),
        RiskServiceMethods.assignWarning.path: .anyOf([.staff, .mediator]),
        RiskServiceMethods.feedBackOnWarning.path: .anyOf([.staff, .mediator, .gridWorker]),
        RiskServiceMethods.evaluateWarning.path: .anyOf([.staff, .leader]),
        RiskServiceMethods.closeWarning.path: .anyOf([.staff, .leader]),
        RiskServiceMethods.warningFacts.path: .anyOf([.leader, .staff]),
        // Links between cases name no one, but say that a person is in another case: the
        // mediators who work with the parties, in centres covering both cases.
        RiskServiceMethods.listCaseLinks.path: .anyOf([.mediator]),
        RiskServiceMethods.incidentTrend.path: .anyOf(reads),
        RiskServiceMethods.openTopic.path: .anyOf([.staff]),
        RiskServiceMethods.attachCaseToTopic.path: .anyOf([.staff, .mediator]),
        RiskServiceMethods.closeTopic.path: .anyOf([.staff]),
        RiskServiceMethods.listTopics.path: .anyOf(reads),

        IndexServiceMethods.computeMonthlyIndex.path: .anyOf([.admin, .leader]),
        IndexServiceMethods.getRanking.path: .anyOf(office),
        IndexServiceMethods.listActions.path: .anyOf(office),
        IndexServiceMethods.completeAction.path: .anyOf(office),
        IndexServiceMethods.getThresholdRule.path: .anyOf(office),
        IndexServiceMethods.setThresholdRule.path: .anyOf([.leader, .admin]),
        IndexServiceMethods.loadSurveyResults.path: .anyOf([.admin, .staff]),
        IndexServiceMethods.getAnnualGrades.path: .anyOf(office),
        IndexServiceMethods.getMonthlyReview.path: .anyOf(office),

        // Where a centre's pushes go is its administrator's decision; staff may look.
        NotifyServiceMethods.subscribe.path: .anyOf([.admin]),
        NotifyServiceMethods.listSubscriptions.path: .anyOf(office),
        NotifyServiceMethods.updateSubscription.path: .anyOf([.admin]),
        NotifyServiceMethods.rotateSecret.path: .anyOf([.admin]),
        NotifyServiceMethods.pauseSubscription.path: .anyOf([.admin]),
        NotifyServiceMethods.resumeSubscription.path: .anyOf([.admin]),
        NotifyServiceMethods.unsubscribe.path: .anyOf([.admin]),
        NotifyServiceMethods.sendTestPush.path: .anyOf([.admin]),
        NotifyServiceMethods.deliverWarning.path: .system,
        NotifyServiceMethods.deliverNotice.path: .system,
        NotifyServiceMethods.sendResidentText.path: .system,
        // Batches of the event methods above, from the relays.
        EventServiceMethods.deliverEvents.path: .system,
        NotifyServiceMethods.listDeliveries.path: .anyOf(office),
    ]

    /// Whether `principal` may call the method at `path`, for offering an action only to
    /// those it would not refuse (the method still checks).
    public static func allows(_ principal: Principal, _ path: String) -> Bool {
        guard case .anyOf(let roles)? = rules[path] else { return false }
        return !principal.roles.isDisjoint(with: roles)
    }

    /// The table as docs/integrating.md prints it, one row per method in path order.
    public static func markdown() -> String {
        var lines = ["| method | who may call it |", "|---|---|"]
        for path in rules.keys.sorted() {
            let who: String = switch rules[path] {
            case .anyOf(let roles)?: roles.map { "`\($0.rawValue)`" }.sorted().joined(separator: ", ")
            case .system?: "the mesh's own services (`system`)"
            case .public?: "anyone"
            case .signIn?: "anyone, to sign in"
            case nil: ""
            }
            lines.append("| `\(path)` | \(who) |")
        }
        return lines.joined(separator: "\n")
    }
}
