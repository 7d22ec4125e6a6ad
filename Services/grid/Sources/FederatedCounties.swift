import Foundation
import Logging
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganPostgres
import PinganRuntime

/// The counties under this mesh that run a mesh of their own, kept in
/// `grid.federated_counties` as dispute-service lists them.
///
/// From a county's first call to the city, dispute-service records no new case under it, and
/// the county's grids report and screen in its own mesh. A grid the city still holds there
/// would otherwise take a report whose case the city refuses (its event parked, the dispute
/// lost to mediation) and screening days the city's index never counts, since the county's
/// own counts replace them. With the list at hand the city refuses both up front, in words
/// the grid worker can act on, together with new grids and members there.
///
/// The list is read again every ``interval``, the pace of the county's relay, so a county is
/// known here within seconds of its first call, and one an operator removed at the city is
/// let go as soon. A round that cannot reach dispute-service leaves the list as it was.
struct FederatedCounties: Sendable {
    let pool: PostgresPool
    let dispute: ConnectClient
    let verifier: PrincipalVerifier
    let root: DivisionCode

    static let interval: Duration = .seconds(10)

    /// Reads the counties from dispute-service and keeps exactly those.
    /// - Returns: the counties kept.
    @discardableResult
    func refresh(now: Date) async throws -> [DivisionCode] {
        let options = CallOptions(timeout: .seconds(10), headers: [verifier.header(for: .system(MeshService.grid.executable, root: root))])
        let listed = try await dispute.call(FederationServiceMethods.listFederatedCounties, .with { $0.centreCode = root.rawValue }, options: options)
        let counties = try listed.counties.map { county in
            let code = try DivisionCode(validating: county.countyCode)
            guard code.level == .county else {
                throw ConnectError(.internal, "dispute-service listed \(code), a \(code.level.rawValue), as a county that runs its own platform")
            }
            return code
        }
        try await pool.query(
            """
            WITH gone AS (DELETE FROM grid.federated_counties WHERE county_code <> ALL($1::text[]))
            INSERT INTO grid.federated_counties (county_code, known_since) SELECT unnest($1::text[]), $2
            ON CONFLICT (county_code) DO NOTHING
            """,
            [counties.map(\.rawValue), now]
        )
        return counties
    }

    /// The background task that keeps the list.
    func task(now: @escaping @Sendable () -> Date, logger: Logger) -> PeriodicTask {
        PeriodicTask("reading the counties that run their own platform", every: Self.interval, logger: logger) {
            try await refresh(now: now())
        }
    }
}

/// The counties that run their own platform as `grid.federated_counties` holds them, with
/// their names: read beside a filing's or an import batch's other statements, in the same
/// round trip, and asked about each village with ``county(of:)``.
struct CountiesWithOwnPlatform: Sendable {
    static let statement = (
        sql: "SELECT f.county_code, coalesce(d.name, f.county_code) FROM grid.federated_counties f LEFT JOIN grid.divisions d ON d.code = f.county_code",
        parameters: [any PostgresEncodable]()
    )

    private var names: [String: String] = [:]

    /// From the rows of ``statement``.
    init(_ rows: PostgresRows) throws {
        for row in rows { names[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1) }
    }

    /// The name of `village`'s county when that county runs its own platform.
    func county(of village: DivisionCode) -> String? {
        guard !names.isEmpty, let county = village.county else { return nil }
        return names[county.rawValue]
    }
}
