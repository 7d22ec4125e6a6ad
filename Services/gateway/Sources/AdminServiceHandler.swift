import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// `pingan.gateway.v1.AdminService`: a centre's administrators manage the users and API keys
/// of their subtree. The gateway serves it itself, behind the same door as every forwarded
/// call (credentials, narrowing to the gateway's centre, the roles table, the access log);
/// who may do what to which account is ``AccountAdminRule``'s to say.
struct AdminServiceHandler: Sendable {
    static let defaultPageSize = 50
    static let maxPageSize = 200

    let accounts: Accounts
    let store: any AccountAdminStore
    let sessions: SessionRevocations
    let forwarder: Forwarder
    let access: AccessLog

    func register(into routes: inout ConnectRoutes) {
        routes.register(AdminServiceMethods.listUsers) { try await listUsers($0, $1) }
        routes.register(AdminServiceMethods.createUser) { try await createUser($0, $1) }
        routes.register(AdminServiceMethods.setUserRoles) { try await setUserRoles($0, $1) }
        routes.register(AdminServiceMethods.disableUser) { try await disableUser($0, $1) }
        routes.register(AdminServiceMethods.enableUser) { try await enableUser($0, $1) }
        routes.register(AdminServiceMethods.resetPassword) { try await resetPassword($0, $1) }
        routes.register(AdminServiceMethods.issueApiKey) { try await issueApiKey($0, $1) }
        routes.register(AdminServiceMethods.listApiKeys) { try await listApiKeys($0, $1) }
        routes.register(AdminServiceMethods.revokeApiKey) { try await revokeApiKey($0, $1) }
        routes.register(AdminServiceMethods.listAdminAudit) { try await listAdminAudit($0, $1) }
    }

    // MARK: Users

    func listUsers(_ request: Pingan_Gateway_V1_ListUsersRequest, _ context: ConnectContext) async throws -> Pingan_Gateway_V1_ListUsersResponse {
        try await acting(context) { rule in
            let subtree = try centre(request.centreCode, rule)
            let limit = try PageSize.field(request.pageSize, default: Self.defaultPageSize, max: Self.maxPageSize)
            let rows = try await store.users(in: subtree, after: try NameCursor(token: request.pageToken)?.name, limit: limit)
            let page = Page(rows, limit: limit) { NameCursor(name: $0.username) }
            var response = Pingan_Gateway_V1_ListUsersResponse()
            response.users = page.items.map(\.wire)
            response.nextPageToken = page.nextPageToken
            return response
        }
    }

    func createUser(_ request: Pingan_Gateway_V1_CreateUserRequest, _ context: ConnectContext) async throws -> Pingan_Gateway_V1_CreateUserResponse {
        try await acting(context) { rule in
            let username = try AccountAdminRule.accountName(request.username, field: "username")
            let centre = try DivisionCode.field(request.centreCode, "centre_code")
            let roles = try AccountAdminRule.roles(request.roles)
            try rule.mayUse(centre, field: "centre_code").require()
            let department = try await departmentKey(request.departmentKey, roles: roles, centre: centre, rule)
            let hash = try await accounts.hash(password: request.password)
            let detail = "centre=\(centre) roles=\(roles.wire.joined(separator: ","))" + (department.map { " department_key=\($0)" } ?? "")
            let user = try await store.createUser(
                username: username, passwordHash: hash, centre: centre, roles: roles.wire, departmentKey: department,
                audit: audit(rule, context, target: "user:\(username)", detail)
            )
            var response = Pingan_Gateway_V1_CreateUserResponse()
            response.user = user.wire
            return response
        }
    }

    func setUserRoles(_ request: Pingan_Gateway_V1_SetUserRolesRequest, _ context: ConnectContext) async throws -> Pingan_Gateway_V1_SetUserRolesResponse {
        try await acting(context) { rule in
            let username = try AccountAdminRule.accountName(request.username, field: "username")
            let roles = try AccountAdminRule.roles(request.roles)
            try rule.mayChangeStanding(of: username).require()
            if try await accounts.store.user(username)?.departmentKey != nil {
                try DepartmentPerson.requireOnlyRole(roles)
            }
            var response = Pingan_Gateway_V1_SetUserRolesResponse()
            response.user = try await change(username, .roles(roles.wire), rule, context, "roles=\(roles.wire.joined(separator: ","))").wire
            return response
        }
    }

    func disableUser(_ request: Pingan_Gateway_V1_DisableUserRequest, _ context: ConnectContext) async throws -> Pingan_Gateway_V1_DisableUserResponse {
        try await acting(context) { rule in
            let username = try AccountAdminRule.accountName(request.username, field: "username")
            try rule.mayChangeStanding(of: username).require()
            var response = Pingan_Gateway_V1_DisableUserResponse()
            response.user = try await change(username, .disabled(true), rule, context, "disabled").wire
            return response
        }
    }

    func enableUser(_ request: Pingan_Gateway_V1_EnableUserRequest, _ context: ConnectContext) async throws -> Pingan_Gateway_V1_EnableUserResponse {
        try await acting(context) { rule in
            let username = try AccountAdminRule.accountName(request.username, field: "username")
            var response = Pingan_Gateway_V1_EnableUserResponse()
            response.user = try await change(username, .disabled(false), rule, context, "enabled").wire
            return response
        }
    }

    func resetPassword(_ request: Pingan_Gateway_V1_ResetPasswordRequest, _ context: ConnectContext) async throws -> Pingan_Gateway_V1_ResetPasswordResponse {
        try await acting(context) { rule in
            let username = try AccountAdminRule.accountName(request.username, field: "username")
            let hash = try await accounts.hash(password: request.password)
            var response = Pingan_Gateway_V1_ResetPasswordResponse()
            response.user = try await change(username, .passwordHash(hash), rule, context, "password reset").wire
            return response
        }
    }

    /// Applies `change` to a user of the administrator's subtree, ending their sessions on
    /// this gateway at once when it should; a user elsewhere is not found, as one that is not.
    private func change(_ username: String, _ change: UserChange, _ rule: AccountAdminRule, _ context: ConnectContext, _ detail: String) async throws -> UserRecord {
        let now = Date()
        guard let user = try await store.change(username, in: rule.admin.centre, change, at: now, audit: audit(rule, context, target: "user:\(username)", detail)) else {
            throw ConnectError(.notFound, "user \(username) not found")
        }
        if let after = user.sessionsValidAfter { sessions.ended(user.username, at: after) }
        return user
    }

    /// The department a new user signs in for, checked by ``DepartmentPerson``: the named key
    /// must be one of the administrator's subtree (one elsewhere reads as missing) and stand
    /// at the user's centre, so the person acts for the centre the department does.
    private func departmentKey(_ text: String, roles: Set<Role>, centre: DivisionCode, _ rule: AccountAdminRule) async throws -> String? {
        guard let name = try DepartmentPerson.keyName(text, roles: roles) else { return nil }
        let key = try await store.apiKey(named: name, in: rule.admin.centre)
        try DepartmentPerson.requireUsable(key, named: name, at: centre)
        return name
    }

    // MARK: API keys

    func issueApiKey(_ request: Pingan_Gateway_V1_IssueApiKeyRequest, _ context: ConnectContext) async throws -> Pingan_Gateway_V1_IssueApiKeyResponse {
        try await acting(context) { rule in
            let name = try AccountAdminRule.accountName(request.name, field: "name")
            let centre = try DivisionCode.field(request.centreCode, "centre_code")
            let roles = try AccountAdminRule.roles(request.roles, forKey: true)
            try AccountAdminRule.federationCentre(centre, roles: roles, field: "centre_code")
            try rule.mayUse(centre, field: "centre_code").require()
            let (key, digest) = Accounts.newAPIKey()
            let record = try await store.issueAPIKey(
                name: name, digest: digest, centre: centre, roles: roles.wire, replacingRevokedIn: rule.admin.centre,
                audit: audit(rule, context, target: "apikey:\(name)", "centre=\(centre) roles=\(roles.wire.joined(separator: ","))")
            )
            var response = Pingan_Gateway_V1_IssueApiKeyResponse()
            response.apiKey = record.wire
            response.key = key
            return response
        }
    }

    func listApiKeys(_ request: Pingan_Gateway_V1_ListApiKeysRequest, _ context: ConnectContext) async throws -> Pingan_Gateway_V1_ListApiKeysResponse {
        try await acting(context) { rule in
            let subtree = try centre(request.centreCode, rule)
            let limit = try PageSize.field(request.pageSize, default: Self.defaultPageSize, max: Self.maxPageSize)
            let rows = try await store.apiKeys(in: subtree, after: try NameCursor(token: request.pageToken)?.name, limit: limit)
            let page = Page(rows, limit: limit) { NameCursor(name: $0.name) }
            var response = Pingan_Gateway_V1_ListApiKeysResponse()
            response.apiKeys = page.items.map(\.wire)
            response.nextPageToken = page.nextPageToken
            return response
        }
    }

    func revokeApiKey(_ request: Pingan_Gateway_V1_RevokeApiKeyRequest, _ context: ConnectContext) async throws -> Pingan_Gateway_V1_RevokeApiKeyResponse {
        try await acting(context) { rule in
            let name = try AccountAdminRule.accountName(request.name, field: "name")
            guard let key = try await store.revokeAPIKey(name, in: rule.admin.centre, at: Date(), audit: audit(rule, context, target: "apikey:\(name)", "revoked")) else {
                throw ConnectError(.notFound, "API key \(name) not found")
            }
            var response = Pingan_Gateway_V1_RevokeApiKeyResponse()
            response.apiKey = key.wire
            return response
        }
    }

    // MARK: Audit

    func listAdminAudit(_ request: Pingan_Gateway_V1_ListAdminAuditRequest, _ context: ConnectContext) async throws -> Pingan_Gateway_V1_ListAdminAuditResponse {
        try await acting(context) { rule in
            let limit = try PageSize.field(request.pageSize, default: Self.defaultPageSize, max: Self.maxPageSize)
            let rows = try await store.audit(in: rule.admin.centre, before: try AuditCursor(token: request.pageToken)?.id, limit: limit)
            let page = Page(rows, limit: limit) { AuditCursor(id: $0.id) }
            var response = Pingan_Gateway_V1_ListAdminAuditResponse()
            response.entries = page.items.map(\.wire)
            response.nextPageToken = page.nextPageToken
            return response
        }
    }

    // MARK: The door

    /// Runs `body` for an administrator: authenticated and narrowed as a forwarded call is,
    /// allowed the method by ``MethodRoles``, and written to the access log whatever the outcome.
    private func acting<Output>(_ context: ConnectContext, _ body: (AccountAdminRule) async throws -> Output) async throws -> Output {
        let started = ContinuousClock.now
        var subject = "", centre = "", why = "not authenticated"
        do {
            let caller = try await forwarder.authenticate(context)
            subject = caller.subject
            why = "outside gateway centre \(forwarder.centre)"
            let (principal, scopedWhy) = try forwarder.scoped(caller)
            centre = principal.centre.rawValue
            why = scopedWhy
            guard MethodRoles.allows(principal, context.path) else {
                why = "role"
                throw ConnectError(.permissionDenied, "this needs the role admin")
            }
            let output = try await body(AccountAdminRule(admin: principal))
            access.record(context.path, subject: subject, centre: centre, error: nil, rule: why, peer: context.peer, started: started)
            return output
        } catch {
            access.record(context.path, subject: subject, centre: centre, error: error, rule: why, peer: context.peer, started: started)
            throw error
        }
    }

    /// The subtree a listing asks for: the administrator's own by default, or one below it.
    private func centre(_ text: String, _ rule: AccountAdminRule) throws -> DivisionCode {
        guard !text.isEmpty else { return rule.admin.centre }
        let centre = try DivisionCode.field(text, "centre_code")
        try rule.mayUse(centre, field: "centre_code").require()
        return centre
    }

    private func audit(_ rule: AccountAdminRule, _ context: ConnectContext, target: String, _ detail: String) -> AuditRecord {
        AuditRecord(principal: rule.admin.subject, centre: rule.admin.centre, method: context.path, target: target, detail: detail)
    }
}

/// The position after a page of accounts listed by name.
struct NameCursor: PageToken {
    let name: String

    init(name: String) { self.name = name }

    /// Parses a page token; `nil` for the first page.
    init?(token: String) throws {
        guard let name = try PageTokenText.decode(token, kind: "n") else { return nil }
        self.name = name
    }

    var token: String { PageTokenText.encode(kind: "n", name) }
}

/// The position after a page of the audit, newest first.
struct AuditCursor: PageToken {
    let id: Int64

    init(id: Int64) { self.id = id }

    init?(token: String) throws {
        guard let text = try PageTokenText.decode(token, kind: "a") else { return nil }
        guard let id = Int64(text) else { throw PageTokenText.invalid }
        self.id = id
    }

    var token: String { PageTokenText.encode(kind: "a", String(id)) }
}
