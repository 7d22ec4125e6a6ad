import Foundation
import Logging
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// Accounts of a centre's subtree, for its administrators: the users and API keys, and the
/// forms that create, disable, enable and reset users and issue and revoke keys. Built from
/// `AdminService` as the signed-in person calls it (``AdminClient``), so the page shows and
/// does exactly what that person may through the API.
struct AdminPage {
    struct UserRow {
        let username: String, centre: String, roles: String, created: String, disabled: Bool
        /// The administrator's own row: it offers no disable.
        let own: Bool
    }
    struct KeyRow { let name: String, centre: String, roles: String, created: String, revoked: Bool, revokedAt: String }
    /// A role as a checkbox of the create forms, ticked when what was typed ticked it.
    struct RoleOption { let value: String, label: String; var checked = false }
    /// A valid department key of the subtree, as an option of the create-user form's select.
    struct DepartmentKeyOption { let name: String, centre: String; var selected = false }
    /// What was typed into the create-user form, kept when it is refused (not the password).
    struct TypedUser: Equatable {
        var username = ""
        var centre = ""
        var roles: Set<String> = []
        var departmentKey = ""
    }
    /// A refusal, shown beside the form it answers.
    struct Refusal { let form: String, message: String }

    /// How many users and keys the page lists; the API pages through the rest.
    static let listed = 200

    let centre: String
    let users: [UserRow]
    let moreUsers: Bool
    let keys: [KeyRow]
    let moreKeys: Bool
    let roleOptions: [RoleOption]
    let csrf: String
    /// The valid keys with the role department, for a person who acts for a department.
    var departmentKeys: [DepartmentKeyOption] = []
    /// The create-user form as typed, when it was refused; empty otherwise.
    var typedUser = TypedUser()
    /// What the form just done did, in words.
    var notice = ""
    /// The key just issued, shown this once.
    var issuedKey = ""
    var issuedKeyName = ""
    var refusal: Refusal?

    /// Whether `principal` administers accounts, for the nav and the page's gate: the page
    /// shows only to those the API would answer.
    static func isOffered(to principal: Principal) -> Bool {
        MethodRoles.allows(principal, AdminServiceMethods.listUsers.path)
    }

    static func load(client: AdminClient, own username: String?, csrf: String) async throws -> AdminPage {
        let users = try await client.handler.listUsers(.with { $0.pageSize = Int32(listed) }, client.context(AdminServiceMethods.listUsers))
        let keys = try await client.handler.listApiKeys(.with { $0.pageSize = Int32(listed) }, client.context(AdminServiceMethods.listApiKeys))
        return AdminPage(
            centre: client.centre,
            users: users.users.map { user in
                UserRow(username: user.username, centre: user.centreCode, roles: AdminLabels.roles(user.roles), created: Labels.time(user.createdAt),
                        disabled: user.disabled, own: user.username == username)
            },
            moreUsers: !users.nextPageToken.isEmpty,
            keys: keys.apiKeys.map { key in
                KeyRow(name: key.name, centre: key.centreCode, roles: AdminLabels.roles(key.roles), created: Labels.time(key.createdAt),
                       revoked: !key.revokedAt.isEmpty, revokedAt: Labels.time(key.revokedAt))
            },
            moreKeys: !keys.nextPageToken.isEmpty,
            roleOptions: AccountAdminRule.grantable.map { RoleOption(value: $0.rawValue, label: AdminLabels.role($0.rawValue)) },
            csrf: csrf,
            departmentKeys: keys.apiKeys.filter { $0.revokedAt.isEmpty && $0.roles.contains(Role.department.rawValue) }
                .map { DepartmentKeyOption(name: $0.name, centre: $0.centreCode) }
        )
    }
}

/// `AdminService` as a page calls it: the gateway's own handler, called as the signed-in
/// person with their token, so the door's checks and the access log apply as to any caller.
struct AdminClient: Sendable {
    let handler: AdminServiceHandler
    let token: String
    /// The signed-in centre, the forms' default.
    let centre: String
    let peer: String?
    let logger: Logger

    func context<Input, Output>(_ method: ConnectMethod<Input, Output>) -> ConnectContext {
        ConnectContext(
            path: method.path, headers: [.authorization: "Bearer " + token], deadline: .now + .seconds(15), trace: .root(), logger: logger, peer: peer
        )
    }
}

/// How the admin page says things in Chinese: roles, what was done, and why a form was refused.
enum AdminLabels {
    static func role(_ name: String) -> String {
        switch name {
        case "staff": "工作人员"
        case "grid_worker": "网格员"
        case "mediator": "调解员"
        case "leader": "领导"
        case "admin": "管理员"
        case "department": "部门系统"
        case "resident_app": "群众端应用"
        default: name
        }
    }

    static func roles(_ names: [String]) -> String {
        names.map(role).joined(separator: "、")
    }

    /// What a successful form did, by the code its redirect carries.
    static func notice(_ code: String) -> String {
        switch code {
        case "created": "已创建用户。"
        case "disabled": "已停用该用户；其登录和已签发的令牌均已失效。"
        case "enabled": "已启用该用户。"
        case "password": "已重置密码；该用户须用新密码重新登录。"
        case "revoked": "已吊销该密钥，立即生效。"
        default: ""
        }
    }

    /// A refused call in words a centre's administrator reads: which field is wrong and how,
    /// or why the change is not theirs to make. `nil` for a refusal the page as a whole answers
    /// (a session that ended, a database that is down).
    static func refusal(_ error: ConnectError) -> String? {
        let field = error.message.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        switch error.code {
        case .invalidArgument:
            switch field {
            case "username": return "用户名须为 3 至 64 位小写字母、数字或 _ . -。"
            case "name": return "密钥名称须为 3 至 64 位小写字母、数字或 _ . -。"
            case "password": return "密码长度须为 10 至 72 个字节，且不能含有空字符。"
            case "centre_code": return "中心代码须为 12 位统计用区划代码，如 430723102000。"
            case "roles":
            if error.message.contains("department") { return "部门人员只能有“部门系统”一个角色，并须选择所代表部门的密钥。" }
            return "请至少选择一个角色。"
        case "department_key":
            if error.message.contains("is required") { return "选择“部门系统”角色时，须选择该用户所代表部门的密钥。" }
            if error.message.contains("revoked") { return "所选部门密钥已吊销。" }
            if error.message.contains("not a department") { return "所选密钥不是部门系统的密钥（没有“部门系统”角色）。" }
            if error.message.contains("same centre") { return "部门人员须与其部门密钥在同一中心，请把中心代码改为密钥所在的中心。" }
            return "部门密钥名称有误。"
            default: return field.hasPrefix("roles[") ? "所选角色不能授予账号。" : "提交的内容有误：\(error.message)"
            }
        case .alreadyExists:
            return field == "name" ? "该密钥名称已被使用，请换一个。" : "该用户名已被使用，请换一个。"
        case .notFound:
            if field == "department_key" { return "未找到所选部门密钥，或它不在本中心的辖区内。" }
            return "未找到该账号，或它不在本中心的辖区内。"
        case .permissionDenied:
            if error.message.contains("your own account") { return "不能停用或更改自己的账号，请由另一位管理员操作。" }
            if field == "centre_code" { return "所选中心不在本中心的辖区内，不能在那里创建账号或密钥。" }
            return "只有本中心的管理员可以管理账号。"
        default:
            return nil
        }
    }
}
