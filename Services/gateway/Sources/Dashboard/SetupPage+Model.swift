import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// A centre's set-up, for its administrators (`/ui/admin/setup`): the subtree's departments
/// and a form to register one (`DisputeService`); a grid's members, each with the link the
/// grid worker opens, and a form to add one (`GridService`), whose answer is the new member's
/// id and link.
///
/// Built as the signed-in person calls the services through the gateway's door
/// (``DashboardClient``, and ``AdminClient`` for the department keys offered), so the page
/// shows and does exactly what that person may through the API.
struct SetupPage {
    struct DepartmentRow { let id: String, centre: String, name: String, apiKey: String }
    /// A valid department key of the subtree, as an option of the register form's select.
    struct KeyOption { let name: String, centre: String; var selected = false }
    /// A grid of the centre, as an option of the add-member form's select.
    struct GridOption { let id: String, label: String; var selected = false }
    /// A grid role, as an option of the add-member form's select.
    struct RoleOption { let value: String, label: String; var selected = false }
    /// A member of the grid whose members are shown: the name masked, as the service gives it.
    struct MemberRow: Equatable { let id: String, name: String, role: String, link: String }

    /// What was typed into the register-department form, kept when it is refused.
    struct TypedDepartment: Equatable {
        var centre = ""
        var name = ""
        var apiKey = ""
    }

    /// What was typed into the add-member form, kept when it is refused.
    struct TypedMember: Equatable {
        var grid = ""
        var name = ""
        var role = ""
    }

    /// A member just added: its id and the link the grid worker opens.
    struct AddedMember: Equatable { let id: String, name: String, grid: String, link: String }

    /// A refusal, beside the form it answers: `department` or `member`.
    struct Refusal: Equatable { let form: String, message: String }

    /// How many departments, keys and grids the page lists; the API pages through the rest.
    static let listed = 200

    /// Grid roles in the order the form offers them, with their wire values.
    static let gridRoles: [(value: String, role: Pingan_Grid_V1_GridRole, label: String)] = [
        ("grid_worker", .gridWorker, "网格员"), ("mediation_director", .mediationDirector, "治调主任"),
        ("political_legal_officer", .politicalLegalOfficer, "政法委员"), ("safety_volunteer", .safetyVolunteer, "平安志愿者"),
    ]

    /// The centre whose subtree is listed.
    let centre: String
    let departments: [DepartmentRow]
    let moreDepartments: Bool
    let keys: [KeyOption]
    let grids: [GridOption]
    let moreGrids: Bool
    /// The grid whose members are shown (`?grid=`), or "" for none.
    var shownGrid = ""
    var members: [MemberRow] = []
    var moreMembers = false
    /// Why the chosen grid's members could not be listed, or "".
    var membersError = ""
    let csrf: String
    var typedDepartment = TypedDepartment()
    var typedMember = TypedMember()
    var added: AddedMember?
    var notice = ""
    var refusal: Refusal?

    /// The page is for those who register departments: the roles table's `RegisterDepartment`
    /// (the administrators, who also add grid members).
    static func isOffered(to principal: Principal) -> Bool {
        MethodRoles.allows(principal, DisputeServiceMethods.registerDepartment.path)
            && MethodRoles.allows(principal, GridServiceMethods.addGridMember.path)
    }

    /// The page for `centre`, with the members of `grid` when one is given.
    static func load(centre: String, grid: String = "", csrf: String, client: DashboardClient, admin: AdminClient) async throws -> SetupPage {
        async let departments = client.call(DisputeServiceMethods.listDepartments, .with { $0.centreCode = centre; $0.pageSize = Int32(Self.listed) })
        async let grids = client.call(GridServiceMethods.listGrids, .with { $0.centreCode = centre; $0.pageSize = Int32(Self.listed) })
        async let members = Self.members(of: grid, client: client)
        let keys = try await admin.handler.listApiKeys(.with { $0.pageSize = Int32(Self.listed) }, admin.context(AdminServiceMethods.listApiKeys))
        let departmentList = try await departments, gridList = try await grids
        var page = SetupPage(
            centre: centre,
            departments: departmentList.departments.map { DepartmentRow(id: $0.id, centre: $0.centreCode, name: $0.name, apiKey: $0.apiKeyName) },
            moreDepartments: !departmentList.nextPageToken.isEmpty,
            keys: keys.apiKeys.filter { $0.revokedAt.isEmpty && $0.roles.contains(Role.department.rawValue) }
                .map { KeyOption(name: $0.name, centre: $0.centreCode) },
            grids: gridList.grids.map { GridOption(id: $0.id, label: "\($0.name)（\($0.villageCode)）") },
            moreGrids: !gridList.nextPageToken.isEmpty,
            csrf: csrf, typedDepartment: TypedDepartment(centre: centre)
        )
        page.shownGrid = grid
        (page.members, page.moreMembers, page.membersError) = try await members
        return page
    }

    /// The first page of `grid`'s members, whether there are more, and why they could not be
    /// listed: a grid that is not there or not in the subtree is said so, not an error page.
    private static func members(of grid: String, client: DashboardClient) async throws -> ([MemberRow], Bool, String) {
        guard !grid.isEmpty else { return ([], false, "") }
        do {
            let list = try await client.call(GridServiceMethods.listGridMembers, .with { $0.gridID = grid; $0.pageSize = Int32(Self.listed) })
            let rows = list.members.map { member in
                MemberRow(
                    id: member.id, name: member.name, role: gridRoles.first { $0.role == member.role }?.label ?? "",
                    link: link(grid: member.gridID, member: member.id)
                )
            }
            return (rows, !list.nextPageToken.isEmpty, "")
        } catch let error as ConnectError where error.code == .notFound || error.code == .invalidArgument {
            return ([], false, "未找到所选网格，或它不在本中心的辖区内。")
        }
    }

    /// The grid worker's link for `member` of `grid`: the report form filled in (``GridPage``).
    static func link(grid: String, member: String) -> String {
        "/ui/grid?grid=\(grid)&member=\(member)"
    }
}

/// How the set-up page says things in Chinese: what was done, and why a form was refused.
enum SetupWords {
    static func notice(_ code: String) -> String {
        switch code {
        case "registered": "已登记部门。"
        default: ""
        }
    }

    /// A refused call in words an administrator can act on; `nil` for a refusal the page as a
    /// whole answers (a session that ended, a service that is down).
    static func refusal(_ error: ConnectError, form: String) -> String? {
        let field = error.message.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        switch error.code {
        case .invalidArgument:
            switch field {
            case "centre_code": return "中心代码须为 12 位统计用区划代码，如 430723102000。"
            case "name": return form == "member" ? "姓名须为 1 至 50 个字符。" : "部门名称须为 1 至 100 个字符。"
            case "api_key_name": return "请选择部门系统所用的密钥（1 至 100 位字母、数字或 - _ .）。"
            case "grid_id": return "请选择网格。"
            case "role": return "请选择成员的角色。"
            default: return "提交的内容有误：\(error.message)"
            }
        case .alreadyExists:
            if field == "api_key_name" || error.message.contains("key") { return "该密钥已由另一个部门使用，请换一个。" }
            return "本中心已有同名部门，请换一个名称。"
        case .notFound:
            return form == "member" ? "未找到所选网格，或它不在本中心的辖区内。" : "未找到所选中心或密钥，或它不在本中心的辖区内。"
        case .permissionDenied:
            if field == "centre_code" { return "所选中心不在本中心的辖区内，不能在那里登记部门。" }
            return "只有本中心的管理员可以登记部门和网格成员。"
        default:
            return nil
        }
    }
}
