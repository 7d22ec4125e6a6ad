import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts

/// `pingan.grid.v1.DivisionService`: one method per RPC, named as in the `.proto`.
public struct DivisionServiceHandler: Sendable {
    static let defaultPageSize = 100
    static let maxPageSize = 500

    let store: any DivisionStore
    let verifier: PrincipalVerifier

    public init(store: any DivisionStore, verifier: PrincipalVerifier) {
        self.store = store
        self.verifier = verifier
    }

    public func register(into routes: inout ConnectRoutes) {
        routes.register(DivisionServiceMethods.getDivision) { request, _ in try await getDivision(request) }
        routes.register(DivisionServiceMethods.batchGetDivisions) { request, _ in try await batchGetDivisions(request) }
        routes.register(DivisionServiceMethods.listChildren) { request, _ in try await listChildren(request) }
        routes.register(DivisionServiceMethods.listSubtree) { request, _ in try await listSubtree(request) }
        routes.register(DivisionServiceMethods.importDivisions) { request, context in
            try await importDivisions(request, principal: try verifier.principal(context, for: DivisionServiceMethods.importDivisions))
        }
    }

    func getDivision(_ request: Pingan_Grid_V1_GetDivisionRequest) async throws -> Pingan_Grid_V1_GetDivisionResponse {
        let code = try DivisionCode.field(request.code, "code")
        guard let division = try await store.division(code) else {
            throw ConnectError(.notFound, "division \(code) not found")
        }
        var response = Pingan_Grid_V1_GetDivisionResponse()
        response.division = division.message
        return response
    }

    /// The most codes one call may name: a page's rows, not the city.
    static let maxBatch = 500

    func batchGetDivisions(_ request: Pingan_Grid_V1_BatchGetDivisionsRequest) async throws -> Pingan_Grid_V1_BatchGetDivisionsResponse {
        guard !request.codes.isEmpty else { throw ConnectError.invalidArgument(field: "codes", "name at least one division code") }
        guard request.codes.count <= Self.maxBatch else {
            throw ConnectError.invalidArgument(field: "codes", "at most \(Self.maxBatch) codes per call, not \(request.codes.count)")
        }
        let codes = try request.codes.enumerated().map { at, code in try DivisionCode.field(code, "codes[\(at)]") }
        var response = Pingan_Grid_V1_BatchGetDivisionsResponse()
        response.divisions = try await store.divisions(Set(codes)).map(\.message)
        return response
    }

    func listChildren(_ request: Pingan_Grid_V1_ListChildrenRequest) async throws -> Pingan_Grid_V1_ListChildrenResponse {
        var response = Pingan_Grid_V1_ListChildrenResponse()
        (response.divisions, response.nextPageToken) = try await page(request.code, request.pageSize, request.pageToken, store.children)
        return response
    }

    func listSubtree(_ request: Pingan_Grid_V1_ListSubtreeRequest) async throws -> Pingan_Grid_V1_ListSubtreeResponse {
        var response = Pingan_Grid_V1_ListSubtreeResponse()
        (response.divisions, response.nextPageToken) = try await page(request.code, request.pageSize, request.pageToken, store.subtree)
        return response
    }

    /// Checks a listing request and fetches one page of it with `fetch`.
    private func page(
        _ codeText: String, _ pageSize: Int32, _ token: String,
        _ fetch: (DivisionCode, DivisionCode?, Int) async throws -> DivisionPage
    ) async throws -> ([Pingan_Grid_V1_Division], String) {
        let code = try DivisionCode.field(codeText, "code")
        let limit = try Self.pageSize(pageSize)
        let after = try PageToken.decode(token, within: code)
        try await requireExists(code)
        let page = try await fetch(code, after, limit)
        return (page.divisions.map(\.message), page.continueAfter.map(PageToken.encode) ?? "")
    }

    /// Divisions are public reference data (the statistical codes are published), so reading
    /// them needs no principal; registering them needs an administrator whose centre covers
    /// every row.
    func importDivisions(_ request: Pingan_Grid_V1_ImportDivisionsRequest, principal: Principal) async throws -> Pingan_Grid_V1_ImportDivisionsResponse {
        let result: DivisionImportResult
        do {
            let file = try DivisionCSV(parsing: request.csv)
            if let outside = file.rows.first(where: { !principal.covers($0.division.code) }) {
                throw ConnectError(.permissionDenied, "csv: line \(outside.line): \(outside.division.code) is outside the verifier of centre \(principal.centre)")
            }
            result = try await store.importDivisions(file)
        } catch let error as DivisionImportError {
            throw ConnectError.invalidArgument(field: "csv", error.description)
        }
        var response = Pingan_Grid_V1_ImportDivisionsResponse()
        response.inserted = Int32(result.inserted)
        response.updated = Int32(result.updated)
        response.unchanged = Int32(result.unchanged)
        return response
    }

    private func requireExists(_ code: DivisionCode) async throws {
        guard try await store.division(code) != nil else {
            throw ConnectError(.notFound, "division \(code) not found")
        }
    }

    static func pageSize(_ requested: Int32) throws -> Int {
        try PageSize.field(requested, default: defaultPageSize, max: maxPageSize)
    }
}

/// The opaque continuation token of a division listing: the last code already returned.
enum PageToken {
    static func encode(_ code: DivisionCode) -> String {
        Data("after:\(code.rawValue)".utf8).base64EncodedString()
    }

    static func decode(_ token: String, within root: DivisionCode) throws -> DivisionCode? {
        guard !token.isEmpty else { return nil }
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
              text.hasPrefix("after:"), let code = try? DivisionCode(validating: String(text.dropFirst(6))),
              root.contains(code)
        else {
            throw ConnectError.invalidArgument(field: "page_token", "is not a token from a previous page of this listing")
        }
        return code
    }
}
