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
