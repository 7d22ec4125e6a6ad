extension AdminPage {
    static let template = View.template("""
    <nav class="trail" aria-label="返回"><a href="/ui/">今日工作</a> › 账号管理</nav>
    <h1>账号管理</h1>
    <p class="muted">本中心及下级中心的用户和部门系统密钥。每项更改都记入审计。</p>
    <p><a href="/ui/admin/subscriptions">推送订阅</a>：预警和提醒推送到 Webhook、企业微信、短信或电子邮件，并可发送测试推送。</p>
    <p><a href="/ui/admin/setup">部门与网格成员</a>：登记职能部门，把网格员等成员加入网格并取得其上报链接。</p>
    {{#hasNotice}}<p class="notice" role="status">{{notice}}</p>{{/hasNotice}}
    {{#hasIssuedKey}}<section id="issued-key" aria-labelledby="issued-title">
      <h2 id="issued-title">新密钥 {{issuedKeyName}}</h2>
      <p>密钥只显示这一次，请立即复制并交给部门系统保存：</p>
      <p><code class="key">{{issuedKey}}</code></p>
    </section>{{/hasIssuedKey}}
    <section id="users" aria-labelledby="users-title">
      <h2 id="users-title">用户</h2>
      {{#hasListError}}<p class="error" role="alert">{{listError}}</p>{{/hasListError}}
      <table>
      <thead><tr><th scope="col">用户名</th><th scope="col">中心</th><th scope="col">角色</th><th scope="col">状态</th><th scope="col">创建时间</th><th scope="col">操作</th></tr></thead>
      <tbody>
      {{#users}}<tr data-user="{{username}}"><td data-label="用户名">{{username}}</td><td data-label="中心">{{centre}}</td><td data-label="角色">{{roles}}</td>
      <td data-label="状态">{{#disabled}}<span class="overdue-tag">已停用</span>{{/disabled}}{{^disabled}}正常{{/disabled}}</td><td data-label="创建时间">{{created}}</td>
      <td data-label="操作">
        {{^own}}{{^disabled}}<form class="inline" method="post" action="/ui/admin/users/{{username}}/disable"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" aria-label="停用 {{username}}">停用</button></form>{{/disabled}}{{/own}}
        {{#disabled}}<form class="inline" method="post" action="/ui/admin/users/{{username}}/enable"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" aria-label="启用 {{username}}">启用</button></form>{{/disabled}}
        <form class="inline" method="post" action="/ui/admin/users/{{username}}/password"><input type="hidden" name="csrf" value="{{csrf}}">
          <label for="password-{{username}}">新密码</label><input id="password-{{username}}" name="password" type="password" autocomplete="new-password" minlength="10" maxlength="72" required>
          <button type="submit" aria-label="重置 {{username}} 的密码">重置密码</button></form>
      </td></tr>{{/users}}
      </tbody>
      </table>
      {{^users}}<p class="empty">没有用户。</p>{{/users}}
      {{#moreUsers}}<p class="muted">只列出前 200 个用户；其余请用 AdminService/ListUsers 分页查看。</p>{{/moreUsers}}
    </section>
    <section id="create-user" aria-labelledby="create-user-title">
      <h2 id="create-user-title">新建用户</h2>
      {{#hasCreateUserError}}<p class="error" role="alert">{{createUserError}}</p>{{/hasCreateUserError}}
      <form method="post" action="/ui/admin/users"><input type="hidden" name="csrf" value="{{csrf}}">
        <p><label for="new-username">用户名</label> <input id="new-username" name="username" required pattern="[a-z0-9_.\\-]{3,64}" autocomplete="off" value="{{typedUser.username}}"></p>
        <p><label for="new-centre">中心代码</label> <input id="new-centre" name="centre" required value="{{createCentre}}" inputmode="numeric" maxlength="12"></p>
        <p><label for="new-password">初始密码</label> <input id="new-password" name="password" type="password" autocomplete="new-password" minlength="10" maxlength="72" required></p>
        <fieldset><legend>角色</legend>{{#createRoleOptions}}<label><input type="checkbox" name="role_{{value}}"{{#checked}} checked{{/checked}}> {{label}}</label> {{/createRoleOptions}}</fieldset>
        <p><label for="new-department-key">所代表的部门（部门密钥）</label> <select id="new-department-key" name="department_key" aria-describedby="new-department-key-hint">
          <option value="">不代表部门</option>{{#departmentKeys}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}（{{centre}}）</option>{{/departmentKeys}}</select></p>
        <p class="hint" id="new-department-key-hint">只在角色选“部门系统”时选择：该用户作为部门人员登录（如派出所、司法所的工作人员），只看到派给该部门的吹哨事项并报到、反馈。部门人员只能有“部门系统”一个角色，且须与部门密钥在同一中心。{{^departmentKeys}}本辖区还没有部门系统密钥，请先在下方签发角色为“部门系统”的密钥。{{/departmentKeys}}</p>
        <p><button type="submit">创建用户</button></p>
      </form>
    </section>
    <section id="keys" aria-labelledby="keys-title">
      <h2 id="keys-title">部门系统密钥</h2>
      <table>
      <thead><tr><th scope="col">名称</th><th scope="col">中心</th><th scope="col">角色</th><th scope="col">状态</th><th scope="col">签发时间</th><th scope="col">操作</th></tr></thead>
      <tbody>
      {{#keys}}<tr data-key="{{name}}"><td data-label="名称">{{name}}</td><td data-label="中心">{{centre}}</td><td data-label="角色">{{roles}}</td>
      <td data-label="状态">{{#revoked}}<span class="overdue-tag">已吊销</span> {{revokedAt}}{{/revoked}}{{^revoked}}有效{{/revoked}}</td><td data-label="签发时间">{{created}}</td>
      <td data-label="操作">{{^revoked}}<form class="inline" method="post" action="/ui/admin/keys/{{name}}/revoke"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" aria-label="吊销 {{name}}">吊销</button></form>{{/revoked}}</td></tr>{{/keys}}
      </tbody>
      </table>
      {{^keys}}<p class="empty">没有密钥。</p>{{/keys}}
      {{#moreKeys}}<p class="muted">只列出前 200 个密钥；其余请用 AdminService/ListApiKeys 分页查看。</p>{{/moreKeys}}
    </section>
    <section id="issue-key" aria-labelledby="issue-key-title">
      <h2 id="issue-key-title">签发密钥</h2>
      {{#hasIssueKeyError}}<p class="error" role="alert">{{issueKeyError}}</p>{{/hasIssueKeyError}}
      <form method="post" action="/ui/admin/keys"><input type="hidden" name="csrf" value="{{csrf}}">
        <p><label for="key-name">名称</label> <input id="key-name" name="name" required pattern="[a-z0-9_.\\-]{3,64}" autocomplete="off"></p>
        <p><label for="key-centre">中心代码</label> <input id="key-centre" name="centre" required value="{{centre}}" inputmode="numeric" maxlength="12"></p>
        <fieldset><legend>角色</legend>{{#roleOptions}}<label><input type="checkbox" name="role_{{value}}"> {{label}}</label> {{/roleOptions}}</fieldset>
        <p><button type="submit">签发密钥</button></p>
      </form>
    </section>
    """)

    /// The page as the template reads it: mustache sees stored properties only, so every
    /// flag a section tests is worked out here.
    private struct Shown {
        let centre: String, csrf: String
        let users: [UserRow], moreUsers: Bool, keys: [KeyRow], moreKeys: Bool, roleOptions: [RoleOption]
        let createRoleOptions: [RoleOption], departmentKeys: [DepartmentKeyOption], typedUser: TypedUser, createCentre: String
        let notice: String, hasNotice: Bool
        let issuedKey: String, issuedKeyName: String, hasIssuedKey: Bool
        let listError: String, hasListError: Bool
        let createUserError: String, hasCreateUserError: Bool
        let issueKeyError: String, hasIssueKeyError: Bool
    }

    func render() -> String {
        func error(_ form: String) -> String { refusal?.form == form ? refusal?.message ?? "" : "" }
        return Self.template.render(Shown(
            centre: centre, csrf: csrf, users: users, moreUsers: moreUsers, keys: keys, moreKeys: moreKeys, roleOptions: roleOptions,
            createRoleOptions: roleOptions.map { option in
                var option = option
                option.checked = typedUser.roles.contains(option.value)
                return option
            },
            departmentKeys: departmentKeys.map { key in
                var key = key
                key.selected = key.name == typedUser.departmentKey
                return key
            },
            typedUser: typedUser, createCentre: typedUser.centre.isEmpty ? centre : typedUser.centre,
            notice: notice, hasNotice: !notice.isEmpty,
            issuedKey: issuedKey, issuedKeyName: issuedKeyName, hasIssuedKey: !issuedKey.isEmpty,
            listError: error("list"), hasListError: !error("list").isEmpty,
            createUserError: error("create-user"), hasCreateUserError: !error("create-user").isEmpty,
            issueKeyError: error("issue-key"), hasIssueKeyError: !error("issue-key").isEmpty
        ))
    }
}
