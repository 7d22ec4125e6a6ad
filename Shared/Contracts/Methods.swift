/// Every method of every Pingan contract, named once for servers and clients alike.
///
/// Kept by hand beside the generated messages (swift-protobuf generates no service code); the
/// idempotency of each follows its `idempotency_level` option in the `.proto`.
public enum HealthMethods {
    public static let check = ConnectMethod<Grpc_Health_V1_HealthCheckRequest, Grpc_Health_V1_HealthCheckResponse>(
        service: "grpc.health.v1.Health", name: "Check", idempotency: .noSideEffects
    )
}

/// `pingan.grid.v1.DivisionService`.
public enum DivisionServiceMethods {
    public static let service = "pingan.grid.v1.DivisionService"
    public static let getDivision = ConnectMethod<Pingan_Grid_V1_GetDivisionRequest, Pingan_Grid_V1_GetDivisionResponse>(
        service: service, name: "GetDivision", idempotency: .noSideEffects
    )
    public static let listChildren = ConnectMethod<Pingan_Grid_V1_ListChildrenRequest, Pingan_Grid_V1_ListChildrenResponse>(
        service: service, name: "ListChildren", idempotency: .noSideEffects
    )
    public static let listSubtree = ConnectMethod<Pingan_Grid_V1_ListSubtreeRequest, Pingan_Grid_V1_ListSubtreeResponse>(
        service: service, name: "ListSubtree", idempotency: .noSideEffects
    )
    public static let importDivisions = ConnectMethod<Pingan_Grid_V1_ImportDivisionsRequest, Pingan_Grid_V1_ImportDivisionsResponse>(
        service: service, name: "ImportDivisions", idempotency: .idempotent
    )
}

/// `pingan.grid.v1.GridService`.
public enum GridServiceMethods {
    public static let service = "pingan.grid.v1.GridService"
    public static let createGrid = ConnectMethod<Pingan_Grid_V1_CreateGridRequest, Pingan_Grid_V1_CreateGridResponse>(
        service: service, name: "CreateGrid", idempotency: .unknown
    )
    public static let addGridMember = ConnectMethod<Pingan_Grid_V1_AddGridMemberRequest, Pingan_Grid_V1_AddGridMemberResponse>(
        service: service, name: "AddGridMember", idempotency: .unknown
    )
    public static let reportIncident = ConnectMethod<Pingan_Grid_V1_ReportIncidentRequest, Pingan_Grid_V1_ReportIncidentResponse>(
        service: service, name: "ReportIncident", idempotency: .unknown
    )
    public static let countIncidents = ConnectMethod<Pingan_Grid_V1_CountIncidentsRequest, Pingan_Grid_V1_CountIncidentsResponse>(
        service: service, name: "CountIncidents", idempotency: .noSideEffects
    )
}

/// `pingan.dispute.v1.DisputeService`.
public enum DisputeServiceMethods {
    public static let service = "pingan.dispute.v1.DisputeService"
    public static let openCase = ConnectMethod<Pingan_Dispute_V1_OpenCaseRequest, Pingan_Dispute_V1_OpenCaseResponse>(
        service: service, name: "OpenCase", idempotency: .idempotent
    )
    public static let getCase = ConnectMethod<Pingan_Dispute_V1_GetCaseRequest, Pingan_Dispute_V1_GetCaseResponse>(
        service: service, name: "GetCase", idempotency: .unknown
    )
    public static let listCases = ConnectMethod<Pingan_Dispute_V1_ListCasesRequest, Pingan_Dispute_V1_ListCasesResponse>(
        service: service, name: "ListCases", idempotency: .noSideEffects
    )
    public static let resolveCase = ConnectMethod<Pingan_Dispute_V1_ResolveCaseRequest, Pingan_Dispute_V1_ResolveCaseResponse>(
        service: service, name: "ResolveCase", idempotency: .idempotent
    )
    public static let caseFacts = ConnectMethod<Pingan_Dispute_V1_CaseFactsRequest, Pingan_Dispute_V1_CaseFactsResponse>(
        service: service, name: "CaseFacts", idempotency: .noSideEffects
    )
}

/// `pingan.risk.v1.RiskService`.
public enum RiskServiceMethods {
    public static let service = "pingan.risk.v1.RiskService"
    public static let assessCase = ConnectMethod<Pingan_Risk_V1_AssessCaseRequest, Pingan_Risk_V1_AssessCaseResponse>(
        service: service, name: "AssessCase", idempotency: .idempotent
    )
    public static let getAssessment = ConnectMethod<Pingan_Risk_V1_GetAssessmentRequest, Pingan_Risk_V1_GetAssessmentResponse>(
        service: service, name: "GetAssessment", idempotency: .noSideEffects
    )
    public static let listWarnings = ConnectMethod<Pingan_Risk_V1_ListWarningsRequest, Pingan_Risk_V1_ListWarningsResponse>(
        service: service, name: "ListWarnings", idempotency: .noSideEffects
    )
    public static let acknowledgeWarning = ConnectMethod<Pingan_Risk_V1_AcknowledgeWarningRequest, Pingan_Risk_V1_AcknowledgeWarningResponse>(
        service: service, name: "AcknowledgeWarning", idempotency: .idempotent
    )
    public static let warningFacts = ConnectMethod<Pingan_Risk_V1_WarningFactsRequest, Pingan_Risk_V1_WarningFactsResponse>(
        service: service, name: "WarningFacts", idempotency: .noSideEffects
    )
}

/// `pingan.notify.v1.NotifyService`.
public enum NotifyServiceMethods {
    public static let service = "pingan.notify.v1.NotifyService"
    public static let subscribe = ConnectMethod<Pingan_Notify_V1_SubscribeRequest, Pingan_Notify_V1_SubscribeResponse>(
        service: service, name: "Subscribe", idempotency: .unknown
    )
    public static let deliverWarning = ConnectMethod<Pingan_Notify_V1_DeliverWarningRequest, Pingan_Notify_V1_DeliverWarningResponse>(
        service: service, name: "DeliverWarning", idempotency: .idempotent
    )
    public static let listDeliveries = ConnectMethod<Pingan_Notify_V1_ListDeliveriesRequest, Pingan_Notify_V1_ListDeliveriesResponse>(
        service: service, name: "ListDeliveries", idempotency: .noSideEffects
    )
}

/// `pingan.index.v1.IndexService`.
public enum IndexServiceMethods {
    public static let service = "pingan.index.v1.IndexService"
    public static let computeMonthlyIndex = ConnectMethod<Pingan_Index_V1_ComputeMonthlyIndexRequest, Pingan_Index_V1_ComputeMonthlyIndexResponse>(
        service: service, name: "ComputeMonthlyIndex", idempotency: .idempotent
    )
    public static let getRanking = ConnectMethod<Pingan_Index_V1_GetRankingRequest, Pingan_Index_V1_GetRankingResponse>(
        service: service, name: "GetRanking", idempotency: .noSideEffects
    )
}

/// `pingan.gateway.v1.AuthService`.
public enum AuthServiceMethods {
    public static let service = "pingan.gateway.v1.AuthService"
    public static let login = ConnectMethod<Pingan_Gateway_V1_LoginRequest, Pingan_Gateway_V1_LoginResponse>(
        service: service, name: "Login", idempotency: .unknown
    )
}
