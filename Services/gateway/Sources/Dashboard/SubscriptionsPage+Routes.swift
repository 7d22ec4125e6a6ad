import Foundation
import HTTPTypes
import Hummingbird
import PinganConnect
import PinganContracts

extension SubscriptionsPage {
    /// `/ui/admin/subscriptions` (`?centre=` a centre of the subtree, `?test=` a test push to
    /// report on) and its forms: `POST /ui/admin/subscriptions` (Subscribe) and
    /// `POST /ui/admin/subscriptions/:id/{events,secret,pause,resume,unsubscribe,test}`
    /// (UpdateSubscription, RotateSecret, PauseSubscription, ResumeSubscription, Unsubscribe,
    /// SendTestPush). Each form is one `NotifyService` method; a
    /// change done goes back to the page saying so, a refusal is the page again with the reason
    /// beside the form and what was typed kept.
    static func routes(_ subscriptions: RouterGroup<PageContext>) {
        subscriptions.get { request, context in
            let visitor = try context.requireVisitor()
            guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            let query = request.uri.queryParameters
            let centre = try visitor.session.centre(query["centre"].map(String.init)).rawValue
            var page = try await load(centre: centre, csrf: visitor.session.csrf, client: visitor.client)
            page.notice = SubscriptionWords.notice(query["done"].map(String.init) ?? "")
            if let delivery = query["test"].map(String.init), UUID(uuidString: delivery) != nil,
               let outcome = try await outcome(of: delivery, client: visitor.client) {
                page.show(outcome)
            }
            return Dashboard.page("推送订阅", page.render(), visitor.session)
        }
        subscriptions.post { _, context in
            let form = context.form
            let typed = typed(form)
            return try await act(context, form: "subscribe", typed: typed) { client in
                _ = try await client.call(NotifyServiceMethods.subscribe, .with {
                    $0.centreCode = typed.centre
                    $0.channel = SubscriptionWords.channel(typed.channel)
                    $0.url = typed.channel == "email" ? "" : typed.url
                    $0.secret = typed.channel == "webhook" ? form["secret"] ?? "" : ""
                    $0.phone = typed.channel == "sms" ? typed.phone : ""
                    $0.email = typed.channel == "email" ? typed.email : ""
                    $0.eventTypes = eventTypes.filter(typed.events.contains)
                    $0.minScore = score(typed.minScore)
                })
                return "done=subscribed"
            }
        }
        subscriptions.post(":id/:action") { _, context in
            let id = try context.parameters.require("id"), action = try context.parameters.require("action")
            let form = context.form
            return try await act(context, form: id, typed: Typed()) { client in
                switch action {
                case "events":
                    _ = try await client.call(NotifyServiceMethods.updateSubscription, .with {
                        $0.subscriptionID = id
                        $0.eventTypes = eventTypes.filter { form["event_\($0)"] != nil }
                        $0.minScore = score(form["min_score"] ?? "")
                        $0.categories = form.keys.filter { $0.hasPrefix("category_") }.sorted()
                            .compactMap { Int(form[$0] ?? "").flatMap(Pingan_Grid_V1_IncidentCategory.init(rawValue:)) }
                    })
                    return "done=updated"
                case "secret":
                    _ = try await client.call(NotifyServiceMethods.rotateSecret, .with {
                        $0.subscriptionID = id
                        $0.secret = form["secret"] ?? ""
                        $0.overlapSeconds = Int32(form["overlap"] ?? "") ?? 0
                    })
                    return "done=rotated"
                case "pause":
                    _ = try await client.call(NotifyServiceMethods.pauseSubscription, .with { $0.subscriptionID = id })
                    return "done=paused"
                case "resume":
                    _ = try await client.call(NotifyServiceMethods.resumeSubscription, .with { $0.subscriptionID = id })
                    return "done=resumed"
                case "unsubscribe":
                    _ = try await client.call(NotifyServiceMethods.unsubscribe, .with { $0.subscriptionID = id })
                    return "done=unsubscribed"
                case "test":
                    let sent = try await client.call(NotifyServiceMethods.sendTestPush, .with { $0.subscriptionID = id })
                    // Wait a little for its outcome, so the page the administrator returns to
                    // usually says at once whether it arrived.
                    _ = try? await outcome(of: sent.deliveryID, client: client, patience: .seconds(5))
                    return "test=\(sent.deliveryID)"
                default:
                    throw HTTPError(.notFound)
                }
            }
        }
    }

    /// Runs one form's change. Done: back to the page of the form's centre with `done`.
    /// Refused in a way the administrator can fix: the page with the reason beside `form`,
    /// `typed` kept, answered with the refusal's status.
    private static func act(
        _ context: PageContext, form: String, typed: Typed, _ change: (DashboardClient) async throws -> String
    ) async throws -> Response {
        let visitor = try context.requireVisitor()
        guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
        // The page returned to lists the centre the form was on, when it is a centre at all.
        let centre = Dashboard.centreParameter(context.form["page_centre"]) ?? visitor.session.principal.centre.rawValue
        do {
            let done = try await change(visitor.client)
            return Dashboard.redirect("/ui/admin/subscriptions?centre=\(centre)&\(done)")
        } catch let error as ConnectError {
            guard let message = SubscriptionWords.refusal(error) else { throw error }
            var page = try await load(centre: centre, csrf: visitor.session.csrf, client: visitor.client)
            page.refusal = Refusal(form: form, message: message)
            if form == "subscribe" { page.typed = typed }
            let status: HTTPResponse.Status = switch error.code {
            case .notFound: .notFound
            case .permissionDenied: .forbidden
            case .failedPrecondition: .conflict
            default: .badRequest
            }
            return Dashboard.page(status: status, "推送订阅", page.render(), visitor.session)
        }
    }

    /// The subscribe form's fields as typed, trimmed.
    static func typed(_ form: [String: String]) -> Typed {
        func field(_ name: String) -> String { (form[name] ?? "").trimmingCharacters(in: .whitespaces) }
        return Typed(
            channel: SubscriptionWords.channels.map(\.value).contains(field("channel")) ? field("channel") : "webhook",
            centre: field("centre"), url: field("url"), phone: field("phone"), email: field("email"),
            events: Set(eventTypes.filter { form["event_\($0)"] != nil }), minScore: field("min_score")
        )
    }

    /// A score as typed: empty is 0, and anything but a number is sent as -1, so the
    /// service's refusal (0 to 100) names the field rather than the page guessing.
    static func score(_ text: String) -> Int32 {
        let text = text.trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? 0 : Int32(text) ?? -1
    }

    private static func notOffered(_ session: Dashboard.Session) -> Response {
        Dashboard.message(status: .forbidden, "只有本中心的管理员可以管理推送订阅。", session)
    }
}
