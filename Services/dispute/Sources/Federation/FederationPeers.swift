import Foundation
import PinganConnect
import PinganContracts
import PinganDomain
import PinganPostgres

/// A county that runs its own mesh, as the city last heard from it.
struct FederatedCounty: Sendable, Equatable {
    let code: DivisionCode
    /// When its relay last called.
    let heardAt: Date
    /// Every change the county committed before this is in the city's copies; `nil` until a
    /// call has said so.
    let completeAsOf: Date?

    var wire: Pingan_Dispute_V1_FederatedCounty {
        .with {
            $0.countyCode = code.rawValue
            $0.heardAt = heardAt.wireTimestamp
            $0.completeAsOf = completeAsOf?.wireTimestamp ?? ""
        }
    }
}

/// The city's record of the counties that send it their cases (`dispute.federation_peers`):
/// when each was last heard from, and up to when its copies are complete. The city's pages
/// say a county's figures are "as of" that time, and the index freezes a month only once
/// every county's copies are complete past its end.
struct FederationPeers: Sendable {
    let pool: PostgresPool

    /// Records that `county` was heard from, the newest change of it applied and, when the
    /// call said so and all of it applied, that its copies are complete up to `completeAsOf`
    /// (never moved back, never past `now`: a county's clock running ahead claims nothing
    /// the city has not reached).
    func heard(from county: DivisionCode, newest: Int64, completeAsOf: Date?, at now: Date) async throws {
        try await pool.query(
            """
            INSERT INTO dispute.federation_peers AS p (county_code, heard_at, newest_version, complete_as_of)
            VALUES ($1, $2, $3, CASE WHEN $4::timestamptz IS NOT NULL THEN least($4, $2) END)
            ON CONFLICT (county_code) DO UPDATE SET heard_at = $2,
                newest_version = greatest(p.newest_version, $3),
                complete_as_of = greatest(p.complete_as_of, excluded.complete_as_of)
            """,
            [county.rawValue, now, Int(newest), completeAsOf]
        )
    }

    /// The counties heard from whose subtree holds `centre` or lies under it: the ones whose
    /// copies make up what a page of `centre` shows. A few rows, one per county.
    func counties(around centre: DivisionCode) async throws -> [FederatedCounty] {
        try await pool.query("SELECT county_code, heard_at, complete_as_of FROM dispute.federation_peers ORDER BY county_code")
            .map { row in
                FederatedCounty(
                    code: try DivisionCode(validating: try row.decode(String.self, at: 0)),
                    heardAt: try row.decode(Date.self, at: 1), completeAsOf: try row.decode(Date?.self, at: 2)
                )
            }
            .filter { centre.contains($0.code) || $0.code.contains(centre) }
    }
}
