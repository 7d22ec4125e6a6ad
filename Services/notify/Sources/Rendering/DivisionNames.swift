import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import Synchronization

/// The names of divisions, for pushes people read: a centre and a village are said by name
/// (鼎城区 · 花岩溪镇), not by their twelve digits.
protocol DivisionNaming: Sendable {
    /// The name of each code it knows; a code it cannot name is left out, and the push says
    /// the code instead rather than wait or fail.
    func names(of codes: [String]) async -> [String: String]
}

/// Names from grid-service's `DivisionService/GetDivision` (public reference data), asked as
/// the mesh's own service and kept for the life of the process: divisions are renamed
/// seldom, and a push must not wait on grid-service for every delivery. A failed or slow
/// answer (``timeout``) is not kept, so the next push asks again; meanwhile pushes say codes.
final class GridDivisionNames: DivisionNaming {
    let grid: ConnectClient
    let verifier: PrincipalVerifier
    let root: DivisionCode
    let timeout: Duration = .seconds(2)
    private let known = Mutex<[String: String]>([:])

    init(grid: ConnectClient, verifier: PrincipalVerifier, root: DivisionCode) {
        self.grid = grid
        self.verifier = verifier
        self.root = root
    }

    func names(of codes: [String]) async -> [String: String] {
        var names = known.withLock { known in codes.reduce(into: [String: String]()) { $0[$1] = known[$1] } }
        for code in Set(codes) where names[code] == nil && !code.isEmpty {
            var request = Pingan_Grid_V1_GetDivisionRequest()
            request.code = code
            let options = CallOptions(timeout: timeout, headers: [verifier.header(for: .system(MeshService.notify.executable, root: root))])
            guard let name = try? await grid.call(DivisionServiceMethods.getDivision, request, options: options).division.name, !name.isEmpty else { continue }
            names[code] = name
            known.withLock { $0[code] = name }
        }
        return names
    }
}

/// Fixed names: for tests, and for a deployment without grid-service's names (none).
struct FixedDivisionNames: DivisionNaming {
    var table: [String: String] = [:]

    func names(of codes: [String]) async -> [String: String] {
        table.filter { codes.contains($0.key) }
    }
}
