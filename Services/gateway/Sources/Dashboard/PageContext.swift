import Hummingbird
import PinganConnect
import PinganRuntime

/// What a dashboard route is handed besides the request: the service's request context, who
/// is signed in (set by ``SessionGate``) and the fields of a posted form (read and checked by
/// ``FormGate``), the way Hummingbird's authenticators leave their identity in the context.
struct PageContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The peer's IP address, for sign-in throttling and the access log.
    let peer: String?
    /// Who is signed in; `nil` until ``SessionGate`` has let the request through.
    var visitor: Visitor?
    /// A posted form's fields, once ``FormGate`` has found its token good; empty otherwise.
    var form: [String: String] = [:]

    init(context: PinganRequestContext) {
        coreContext = context.coreContext
        peer = context.peer
    }

    /// The signed-in person. Every route behind ``SessionGate`` has one; a route that asks
    /// without the gate in front sends its caller to sign in.
    func requireVisitor() throws -> Visitor {
        guard let visitor else { throw ConnectError(.unauthenticated, "no session") }
        return visitor
    }
}

/// A signed-in person: their session, and the services as they may call them.
struct Visitor: Sendable {
    let session: Dashboard.Session
    let client: DashboardClient
}

/// The dashboard as the runtime serves it under `/ui/`: its router, each request's context
/// widened to a ``PageContext``.
struct DashboardResponder: HTTPResponder {
    let router: RouterResponder<PageContext>

    func respond(to request: Request, context: PinganRequestContext) async throws -> Response {
        try await router.respond(to: request, context: PageContext(context: context))
    }
}
