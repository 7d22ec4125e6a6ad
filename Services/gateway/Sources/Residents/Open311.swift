import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// The Open311 GeoReport v2 door (`/open311/v2/`): what resident apps and city 311 systems
/// speak, served from the same `ResidentService` methods as the Connect API. Filing needs the
/// app's API key (role `resident_app`); the reads are public and carry no personal data: no
/// name, phone or description, no place finer than the village, no sensitive request.
enum Open311 {
    /// The case categories as services, with the words residents choose them by.
    static let services: [(code: String, category: Pingan_Grid_V1_IncidentCategory, name: String, description: String)] = [
        ("neighbour", .neighbour, "邻里纠纷", "相邻关系、噪音、通行、宅基地边界等邻里之间的矛盾"),
        ("land", .land, "土地纠纷", "承包地、山林、宅基地的权属和使用争议"),
        ("economic_debt", .economicDebt, "经济债务纠纷", "借贷、欠款、劳务报酬等经济纠纷"),
        ("demolition_compensation", .demolitionCompensation, "征拆补偿纠纷", "征地拆迁、补偿安置中的争议"),
        ("property_management", .propertyManagement, "物业纠纷", "小区物业服务、收费、公共设施的争议"),
        ("marriage_family", .marriageFamily, "婚恋家庭纠纷", "婚姻、赡养、抚养、继承等家庭矛盾（不公开显示）"),
        ("other", .other, "其他矛盾纠纷", "以上类别以外的矛盾和风险隐患"),
    ]

    static func routes(_ router: Router<PageContext>, forwarder: Forwarder) {
        let door = router.group("open311/v2")
        door.get(":file") { request, context in
            try await answer(context.parameters.get("file") ?? "") { name, format in
                switch name {
                case "services": return format.response(.list(item: "service", services.map(service)), root: "services")
                case "requests": return try await listRequests(request, format, forwarder: forwarder, peer: context.peer)
                default: return format.error(.notFound, "no such resource")
                }
            }
        }
        door.post(":file") { request, context in
            try await answer(context.parameters.get("file") ?? "") { name, format in
                guard name == "requests" else { return format.error(.notFound, "no such resource") }
                return try await fileRequest(request, format, forwarder: forwarder, context: context)
            }
        }
        door.get("services/:file") { _, context in
            try await answer(context.parameters.get("file") ?? "") { code, format in
                guard let found = services.first(where: { $0.code == code }) else { return format.error(.notFound, "no service \(code)") }
                return format.response(definition(found.code), root: "service_definition")
            }
        }
        door.get("requests/:file") { _, context in
            try await answer(context.parameters.get("file") ?? "") { id, format in
                let reply = try await forwarder.call(
                    ResidentServiceMethods.getRequest, .with { $0.trackingID = id }, as: publicReader(forwarder), peer: context.peer
                )
                return format.response(.list(item: "request", [request311(reply.request)]), root: "service_requests")
            }
        }
        door.get("tokens/:file") { _, context in
            try await answer(context.parameters.get("file") ?? "") { token, format in
                let reply = try await forwarder.call(
                    ResidentServiceMethods.findRequestByToken, .with { $0.token = token }, as: publicReader(forwarder), peer: context.peer
                )
                return format.response(.list(item: "request", [.record([("service_request_id", .text(reply.trackingID)), ("token", .text(token))])]),
                                       root: "service_requests")
            }
        }
    }

    /// Runs `body` for `file`'s name and format, and answers a refusal in the spec's error
    /// format with the HTTP status Open311 clients expect.
    private static func answer(_ file: String, _ body: (String, Open311Format) async throws -> Response) async throws -> Response {
        guard let (name, format) = Open311Format.split(file) else {
            return Open311Format.json.error(.notFound, "ask for .json or .xml")
        }
        do {
            return try await body(name, format)
        } catch let error as ConnectError {
            switch error.code {
            // Refused for good, as a place whose county runs its own platform: never "try again".
            case .invalidArgument, .failedPrecondition: return format.error(.badRequest, error.message)
            case .unauthenticated, .permissionDenied: return format.error(.forbidden, "api_key is missing, not valid, or not an app's key")
            case .notFound: return format.error(.notFound, "no such request")
            case .resourceExhausted: return format.error(.tooManyRequests, error.message)
            default: return format.error(.serviceUnavailable, "the service is unavailable; try again later")
            }
        }
    }

    /// The public behind the door: reads of the gateway's centre, as an app would make them.
    static func publicReader(_ forwarder: Forwarder) -> Principal {
        forwarder.vouching("open311:public", roles: [.residentApp])
    }

    // MARK: Services

    static func service(_ entry: (code: String, category: Pingan_Grid_V1_IncidentCategory, name: String, description: String)) -> Open311Value {
        .record([
            ("service_code", .text(entry.code)), ("service_name", .text(entry.name)), ("description", .text(entry.description)),
            ("metadata", .bool(true)), ("type", .text("realtime")), ("keywords", .text("矛盾纠纷,调解")), ("group", .text("矛盾纠纷")),
        ])
    }

    static func definition(_ code: String) -> Open311Value {
        func yesNo(_ variable: String, _ description: String, order: Int) -> Open311Value {
            .record([
                ("variable", .bool(true)), ("code", .text(variable)), ("datatype", .text("singlevaluelist")), ("required", .bool(false)),
                ("datatype_description", .text("true 或 false")), ("order", .number(order)), ("description", .text(description)),
                ("values", .list(item: "value", [
                    .record([("key", .text("true")), ("name", .text("是"))]), .record([("key", .text("false")), ("name", .text("否"))]),
                ])),
            ])
        }
        return .record([
            ("service_code", .text(code)),
            ("attributes", .list(item: "attribute", [
                yesNo("threat_of_violence", "是否有人扬言动手或已有肢体冲突", order: 1),
                yesNo("threat_of_self_harm", "是否有人有轻生、自伤的言行", order: 2),
                .record([
                    ("variable", .bool(true)), ("code", .text("other_party")), ("datatype", .text("string")), ("required", .bool(false)),
                    ("datatype_description", .text("50 字以内")), ("order", .number(3)), ("description", .text("对方姓名（可不填）")),
                ]),
            ])),
        ])
    }

    // MARK: Requests

    static func request311(_ request: Pingan_Dispute_V1_PublicRequest) -> Open311Value {
        let service = services.first { $0.category == request.category }
        return .record([
            ("service_request_id", .text(request.trackingID)),
            ("status", .text(request.open ? "open" : "closed")),
            ("status_notes", .text(request.stageText)),
            ("service_name", .text(service?.name ?? "")),
            ("service_code", .text(service?.code ?? "")),
            ("agency_responsible", .text(request.centreCode)),
            ("requested_datetime", .text(request.requestedAt)),
            ("updated_datetime", .text(request.updatedAt)),
            ("address_id", .text(request.villageCode)),
        ])
    }

    static func listRequests(_ request: Request, _ format: Open311Format, forwarder: Forwarder, peer: String?) async throws -> Response {
        let query = request.uri.queryParameters
        var list = Pingan_Dispute_V1_ListRequestsRequest()
        if let ids = query.get("service_request_id"), !ids.isEmpty {
            list.trackingIds = ids.split(separator: ",").map { String($0) }
        }
        if let codes = query.get("service_code"), !codes.isEmpty {
            list.categories = try codes.split(separator: ",").map { code in
                guard let found = services.first(where: { $0.code == code }) else {
                    throw ConnectError.invalidArgument(field: "service_code", "no service \(code)")
                }
                return found.category
            }
        }
        list.requestedAfter = query.get("start_date").map { String($0) } ?? ""
        list.requestedBefore = query.get("end_date").map { String($0) } ?? ""
        switch query.get("status").map({ String($0) }) ?? "" {
        case "": break
        case "open": list.openOnly = true
        case "closed": list.closedOnly = true
        case "open,closed", "closed,open": break
        case let other: throw ConnectError.invalidArgument(field: "status", "\(other) is neither open nor closed")
        }
        list.pageSize = 200
        let reply = try await forwarder.call(ResidentServiceMethods.listRequests, list, as: publicReader(forwarder), peer: peer)
        return format.response(.list(item: "request", reply.requests.map(request311)), root: "service_requests")
    }

    /// `POST requests`: the app's key (`api_key`, or `X-Api-Key`), the service, where, and
    /// who; the filer's phone is required, their name optional. An `Idempotency-Key` header
    /// holding a UUID makes a retried post file once.
    static func fileRequest(_ request: Request, _ format: Open311Format, forwarder: Forwarder, context: PageContext) async throws -> Response {
        let fields = try await Dashboard.form(request)
        guard let key = fields["api_key"].flatMap({ $0.isEmpty ? nil : $0 }) ?? Credentials.apiKeyHeader.flatMap({ request.headers[$0] }) else {
            throw ConnectError(.unauthenticated, "api_key is required")
        }
        guard let service = services.first(where: { $0.code == fields["service_code"] ?? "" }) else {
            throw ConnectError.invalidArgument(field: "service_code", "is required: one of \(services.map(\.code).joined(separator: ", "))")
        }
        let idempotency = HTTPField.Name("Idempotency-Key").flatMap { request.headers[$0] }.flatMap(UUID.init(uuidString:)) ?? UUID()
        let name = [fields["last_name"], fields["first_name"]].compactMap { $0 }.joined()
        let filing = Pingan_Dispute_V1_FileRequestRequest.with {
            $0.requestID = idempotency.uuidString.lowercased()
            $0.category = service.category
            $0.divisionCode = fields["address_id"] ?? ""
            $0.description_p = fields["description"] ?? ""
            $0.phone = fields["phone"] ?? ""
            $0.name = name
            $0.otherParty = fields["attribute[other_party]"] ?? ""
            if let media = fields["media_url"], !media.isEmpty { $0.mediaUrls = [media] }
            $0.latitude = fields["lat"] ?? ""
            $0.longitude = fields["long"] ?? ""
            $0.address = fields["address_string"] ?? ""
            $0.threatOfViolence = fields["attribute[threat_of_violence]"] == "true"
            $0.threatOfSelfHarm = fields["attribute[threat_of_self_harm]"] == "true"
            $0.channel = .app
        }
        var headers = HTTPFields()
        if let header = Credentials.apiKeyHeader { headers[header] = key }
        let call = ConnectContext(
            path: ResidentServiceMethods.fileRequest.path, headers: headers,
            deadline: .now + .seconds(15), trace: .root(), logger: context.logger, peer: context.peer
        )
        let output = try await forwarder.forward(try ConnectCodec.proto.encode(filing), .proto, call)
        let filed = try ConnectCodec.proto.decode(Pingan_Dispute_V1_FileRequestResponse.self, from: output)
        let notice = filed.request.request.villageCode.isEmpty ? "已受理，待分派到村（社区）" : "已受理"
        return format.response(.list(item: "request", [.record([
            ("service_request_id", .text(filed.request.request.trackingID)), ("token", .text(filed.token)),
            ("service_notice", .text(notice)), ("account_id", .text("")),
        ])]), root: "service_requests")
    }
}
