import PinganAccess
import PinganConnect
import PinganDomain

/// The subscriptions a caller manages, and whose deliveries it reads: those of the centres in
/// its subtree and, for the people of the mesh's root centre, those of the centre directly
/// above the root.
///
/// A county that runs its own mesh escalates cases to the city in that mesh, and its
/// notify-service is the one that reaches WeCom and SMS while the link to the city's mesh is
/// cut. So the county's administrators subscribe the city's duty room here, at the city's
/// centre: it is pushed what a subscription of the city in the city's own mesh would be for
/// the county's events (under its filter, typically `case.escalated` and `warning.escalated`).
/// A mesh whose root is the city has no centre above it to subscribe.
struct SubscriberScope: Sendable {
    let principal: Principal
    /// The centre above the mesh's root, when the caller acts for the root.
    let above: DivisionCode?

    init(_ principal: Principal, meshRoot: DivisionCode?) {
        self.principal = principal
        above = meshRoot.flatMap { principal.centre == $0 ? $0.parent : nil }
    }

    func covers(_ code: DivisionCode) -> Bool { principal.covers(code) || code == above }

    /// Refuses a centre named in a request that the caller may not subscribe.
    func require(_ code: DivisionCode, field: String) throws {
        guard code != above else { return }
        try principal.require(code, field: field)
    }

    /// The subscription if the caller manages it; `not_found` otherwise, as for any record.
    func visible(_ subscription: Subscription?, _ description: String) throws -> Subscription {
        guard let subscription, covers(subscription.centre) else { throw ConnectError(.notFound, "\(description) not found") }
        return subscription
    }

    /// The centre above the root, when a listing of `centre` (the root) includes it.
    func alsoListed(with centre: DivisionCode) -> DivisionCode? {
        centre == principal.centre ? above : nil
    }
}
