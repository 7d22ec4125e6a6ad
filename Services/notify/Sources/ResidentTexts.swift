import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres

/// Where residents' texts go: the deployment's HTTP SMS gateway, posted the JSON an SMS
/// subscription's gateway gets (`phone`, `template`, `text`), and the resident pages the rating
/// link opens.
struct ResidentTextSettings: Sendable {
    /// `RESIDENT_SMS_URL`; `nil` leaves residents without texts (and so without sign-in).
    var smsURL: String?
    /// `RESIDENT_URL`: the gateway's resident pages, e.g. https://pingan.example.gov.cn/resident.
    var pagesURL: String
    var template = "pingan-resident"
}

/// Texts to residents: the one-time code they sign in with, and the link to rate a request
/// after its return visit. Each arrives as an event (the gateway's code under the id of the
/// code's request, dispute-service's link from its outbox), so a redelivery sends nothing
/// again. What is kept is the kind, the masked phone and the outcome: never the code.
struct ResidentTexts: Sendable {
    let settings: ResidentTextSettings
    let inbox: EventInbox
    let transport: CurlTransport
    let timeout: Duration

    func send(_ request: Pingan_Notify_V1_SendResidentTextRequest, _ event: EventDelivery) async throws -> Pingan_Notify_V1_SendResidentTextResponse {
        let text = try Self.text(request, pages: settings.pagesURL)
        let phone = try Self.phone(request.phone)
        guard let url = settings.smsURL else {
            throw ConnectError(.failedPrecondition, "no SMS gateway for residents is configured (RESIDENT_SMS_URL)")
        }
        return try await inbox.apply(event) { change in
            guard change.firstDelivery else { return .with { $0.sent = true } }
            var json = JSONObjectText()
            json.add("phone", phone)
            json.add("template", settings.template)
            json.add("text", text)
            let body = Array(json.text.utf8)
            let status: Int
            do {
                status = try await transport.post(url: url, headers: [("Content-Type", "application/json")], body: body, timeout: timeout).status
            } catch {
                // Unavailable: the relay (or the gateway) tries again; nothing was recorded.
                throw ConnectError(.unavailable, "the SMS gateway did not answer")
            }
            guard (200..<300).contains(status) else { throw ConnectError(.unavailable, "the SMS gateway answered HTTP \(status)") }
            try await change.transaction.query(
                "INSERT INTO notify.resident_texts (event_id, kind, phone_masked, status) VALUES ($1, $2, $3, $4)",
                [event.id, request.kind == .oneTimeCode ? "one_time_code" : "rating_link", Masking.phone(phone), status]
            )
            return .with { $0.sent = true }
        }
    }

    /// The text, in Chinese, within one SMS where it can be: the code, or the tracking id and
    /// the rating link.
    static func text(_ request: Pingan_Notify_V1_SendResidentTextRequest, pages: String) throws -> String {
        let tracking = try String.field(request.trackingID, "tracking_id", length: 0...20)
        switch request.kind {
        case .oneTimeCode:
            guard request.code.count == 6, request.code.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw ConnectError.invalidArgument(field: "code", "must be 6 digits")
            }
            return "【平安】验证码\(request.code)，10分钟内有效，仅用于查询和评价您的诉求，请勿告诉他人。"
        case .ratingLink:
            guard request.ratingToken.count == 32, request.ratingToken.allSatisfy(\.isHexDigit) else {
                throw ConnectError.invalidArgument(field: "rating_token", "must be the 32 hex digits of a rating link")
            }
            return "【平安】您的诉求\(tracking)已回访，请评价办理结果：\(pages)/rate/\(request.ratingToken)"
        case .unspecified: throw ConnectError.invalidArgument(field: "kind", "is required")
        case .UNRECOGNIZED(let value): throw ConnectError.invalidArgument(field: "kind", "unknown value \(value)")
        }
    }

    /// The phone as ``MobilePhone`` reads it, the one rule for a resident's number.
    static func phone(_ text: String) throws -> String {
        guard !text.isEmpty else { throw ConnectError.invalidArgument(field: "phone", "is required") }
        guard let phone = MobilePhone(normalising: text) else { throw ConnectError.invalidArgument(field: "phone", MobilePhone.problem) }
        return phone.digits
    }
}
