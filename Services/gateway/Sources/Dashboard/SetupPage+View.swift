extension SetupPage {
    static let template = View.template("""
    <nav class="trail" aria-label="返回"><a href="/ui/">今日工作</a> › <a href="/ui/admin">账号管理</a> › 部门与网格成员</nav>
    <h1>部门与网格成员</h1>
    <p class="muted">登记本中心及下级中心的职能部门（吹哨报到的对象），并把网格员等成员加入网格。每项更改都记入审计。</p>
    {{#hasNotice}}<p class="notice" role="status">{{notice}}</p>{{/hasNotice}}
    <section id="departments" aria-labelledby="departments-title">
      <h2 id="departments-title">部门（{{centre}} 及下级）</h2>
      {{#hasDepartments}}<table>
        <thead><tr><th scope="col">部门</th><th scope="col">中心</th><th scope="col">密钥</th><th scope="col">编号</th></tr></thead>
        <tbody>{{#departments}}<tr data-department="{{id}}"><td>{{name}}</td><td>{{centre}}</td><td><code>{{apiKey}}</code></td><td><code class="id">{{id}}</code></td></tr>{{/departments}}</tbody>
      </table>{{/hasDepartments}}
      {{^hasDepartments}}<p class="empty">还没有登记部门。</p>{{/hasDepartments}}
      {{#moreDepartments}}<p class="muted">只列出前 {{listed}} 个部门；其余请用 DisputeService/ListDepartments 分页查看。</p>{{/moreDepartments}}
      <h3 id="register-title">登记部门</h3>
      {{#hasDepartmentError}}<p class="error" role="alert" id="department-error">{{departmentError}}</p>{{/hasDepartmentError}}
      <form method="post" action="/ui/admin/setup/departments" aria-labelledby="register-title"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="page_centre" value="{{centre}}">
        <p><label for="dept-centre">中心代码</label> <input id="dept-centre" name="centre" required value="{{typedDepartment.centre}}" inputmode="numeric" maxlength="12"></p>
        <p><label for="dept-name">部门名称</label> <input id="dept-name" name="name" required maxlength="100" value="{{typedDepartment.name}}"></p>
        <p><label for="dept-key">部门系统密钥</label> <select id="dept-key" name="api_key" aria-describedby="dept-key-hint">
          <option value="">请选择</option>{{#keys}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}（{{centre}}）</option>{{/keys}}</select></p>
        <p class="hint" id="dept-key-hint">部门系统调用接口时所用的密钥（角色为“部门系统”）。{{^keys}}本辖区还没有部门系统密钥，请先在<a href="/ui/admin">账号管理</a>签发。{{/keys}}</p>
        <p><button type="submit">登记部门</button></p>
      </form>
    </section>
    <section id="members" aria-labelledby="members-title">
      <h2 id="members-title">网格成员</h2>
      <form method="get" action="/ui/admin/setup" aria-labelledby="members-list-title"><h3 id="members-list-title">查看网格成员</h3>
        <p><label for="list-centre">中心代码</label> <input id="list-centre" name="centre" value="{{centre}}" inputmode="numeric" maxlength="12" aria-describedby="list-centre-hint"></p>
        <p class="hint" id="list-centre-hint">网格多时，填乡镇（街道）或村（社区）的代码，只列出那里的网格。</p>
        <p><label for="list-grid">网格</label> <select id="list-grid" name="grid">
          <option value="">请选择</option>{{#listGrids}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/listGrids}}</select></p>
        <p><button type="submit">查看成员</button></p>
      </form>
      {{#hasMembersError}}<p class="error" role="alert" id="members-error">{{membersError}}</p>{{/hasMembersError}}
      {{#hasMembers}}<table id="grid-members">
        <thead><tr><th scope="col">姓名</th><th scope="col">角色</th><th scope="col">成员编号</th><th scope="col">网格员上报链接（交给该成员在手机上打开）</th></tr></thead>
        <tbody>{{#members}}<tr data-member="{{id}}"><td class="nowrap">{{name}}</td><td class="nowrap">{{role}}</td><td><code class="id">{{id}}</code></td><td><a href="{{link}}"><code>{{link}}</code></a></td></tr>{{/members}}</tbody>
      </table>{{/hasMembers}}
      {{#noMembers}}<p class="empty">该网格还没有成员。</p>{{/noMembers}}
      {{#moreMembers}}<p class="muted">只列出前 {{listed}} 名成员；其余请用 GridService/ListGridMembers 分页查看。</p>{{/moreMembers}}
      <h3 id="add-member-title">加入网格成员</h3>
      {{#hasAdded}}<div class="notice" role="status" id="member-added">
        <p>已将 {{added.name}} 加入网格。成员编号：<code class="id">{{added.id}}</code></p>
        <p>网格员上报链接（请交给该成员在手机上打开）：<a href="{{added.link}}"><code>{{added.link}}</code></a></p>
      </div>{{/hasAdded}}
      {{#hasMemberError}}<p class="error" role="alert" id="member-error">{{memberError}}</p>{{/hasMemberError}}
      <form method="post" action="/ui/admin/setup/members" aria-labelledby="add-member-title"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="page_centre" value="{{centre}}">
        <p><label for="member-grid">网格</label> <select id="member-grid" name="grid" required>
          <option value="">请选择</option>{{#grids}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/grids}}</select></p>
        {{^grids}}<p class="hint">{{centre}} 下还没有网格。</p>{{/grids}}
        {{#moreGrids}}<p class="muted">只列出前 {{listed}} 个网格；在“查看网格成员”中填乡镇或村的代码，可只列出那里的网格。</p>{{/moreGrids}}
        <p><label for="member-name">姓名</label> <input id="member-name" name="name" required maxlength="50" value="{{typedMember.name}}"></p>
        <p><label for="member-role">角色</label> <select id="member-role" name="role" required>
          <option value="">请选择</option>{{#roles}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/roles}}</select></p>
        <p><button type="submit">加入网格</button></p>
      </form>
    </section>
    """)

    /// The page as the template reads it: mustache sees stored properties only.
    private struct Shown {
        /// How many rows each list reads (``SetupPage/listed``).
        let listed = SetupPage.listed
        let centre: String, csrf: String
        let departments: [DepartmentRow], hasDepartments: Bool, moreDepartments: Bool
        let keys: [KeyOption], grids: [GridOption], moreGrids: Bool
        let listGrids: [GridOption], members: [MemberRow], hasMembers: Bool, noMembers: Bool, moreMembers: Bool
        let membersError: String, hasMembersError: Bool
        let roles: [RoleOption]
        let typedDepartment: TypedDepartment, typedMember: TypedMember
        let added: AddedMember?, hasAdded: Bool
        let notice: String, hasNotice: Bool
        let departmentError: String, hasDepartmentError: Bool
        let memberError: String, hasMemberError: Bool
    }

    func render() -> String {
        let departmentError = refusal?.form == "department" ? refusal?.message ?? "" : ""
        let memberError = refusal?.form == "member" ? refusal?.message ?? "" : ""
        var keys = keys.map { key in var key = key; key.selected = key.name == typedDepartment.apiKey; return key }
        // A key typed that the subtree no longer offers is kept as typed, so it is not lost.
        if !typedDepartment.apiKey.isEmpty, !keys.contains(where: { $0.selected }) {
            keys.append(KeyOption(name: typedDepartment.apiKey, centre: typedDepartment.centre, selected: true))
        }
        return Self.template.render(Shown(
            centre: centre, csrf: csrf,
            departments: departments, hasDepartments: !departments.isEmpty, moreDepartments: moreDepartments,
            keys: keys,
            grids: grids.map { grid in var grid = grid; grid.selected = grid.id == typedMember.grid; return grid },
            moreGrids: moreGrids,
            listGrids: grids.map { grid in var grid = grid; grid.selected = grid.id == shownGrid; return grid },
            members: members, hasMembers: !members.isEmpty,
            noMembers: !shownGrid.isEmpty && members.isEmpty && membersError.isEmpty, moreMembers: moreMembers,
            membersError: membersError, hasMembersError: !membersError.isEmpty,
            roles: Self.gridRoles.map { RoleOption(value: $0.value, label: $0.label, selected: $0.value == typedMember.role) },
            typedDepartment: typedDepartment, typedMember: typedMember,
            added: added, hasAdded: added != nil,
            notice: notice, hasNotice: !notice.isEmpty,
            departmentError: departmentError, hasDepartmentError: !departmentError.isEmpty,
            memberError: memberError, hasMemberError: !memberError.isEmpty
        ))
    }
}
