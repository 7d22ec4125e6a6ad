import HTTPTypes
import Logging
import PinganConnect
import PinganContracts
import SwiftProtobuf

/// The services, as a page asks them: through the gateway's own door, as the signed-in
/// person. Authentication, narrowing to the gateway's centre, the roles table and the access
/// log apply exactly as to any other caller, so a page can show nothing its user could not
/// fetch with `curl`.
struct DashboardClient: Sendable {
    let forwarder: Forwarder
    let token: String
    let peer: String?
    let logger: Logger

    func call<Input, Output>(_ method: ConnectMethod<Input, Output>, _ request: Input) async throws -> Output {
        let context = ConnectContext(
            path: method.path, headers: [.authorization: "Bearer " + token], deadline: .now + .seconds(15), trace: .root(),
            logger: logger, peer: peer
        )
        let output = try await forwarder.forward(try ConnectCodec.proto.encode(request), .proto, context)
        return try ConnectCodec.proto.decode(Output.self, from: output)
    }
}

extension DashboardClient {
    /// The most codes `BatchGetDivisions` takes in one call (its contract, division.proto).
    static let divisionsPerCall = 500

    /// The names of the divisions `codes` name, read in one call (``DivisionServiceMethods/batchGetDivisions``)
    /// rather than one per code: a page of grids or summons names dozens of villages. A code
    /// the grid service cannot name just now is left out, and the page shows it as its code.
    func divisionNames(_ codes: some Sequence<String>) async -> [String: String] {
        let distinct = Array(Set(codes))
        var names: [String: String] = [:]
        for start in stride(from: 0, to: distinct.count, by: Self.divisionsPerCall) {
            let chunk = Array(distinct[start..<min(start + Self.divisionsPerCall, distinct.count)])
            guard let found = try? await call(DivisionServiceMethods.batchGetDivisions, .with { $0.codes = chunk }) else { continue }
            for division in found.divisions { names[division.code] = division.name }
        }
        return names
    }
}
