extension IntakePage {
    static let template = View.template("""
    <nav class="trail" aria-label="返回"><a href="/ui/">今日工作</a> › 一站式接待</nav>
    <h1>一站式接待 · {{centreName}}</h1>
    <p class="muted">来访、热线、公安移交、部门移交和群众端反映的纠纷在此受理。同一村的同一当事人已有案件的，并入该案件。</p>
    {{#hasNarrower}}<section id="narrower" aria-labelledby="narrower-title"><h2 id="narrower-title">先选择乡镇（街道）</h2>
      <ul class="children">{{#narrower}}<li><a href="/ui/intake?centre={{value}}">{{label}}</a></li>{{/narrower}}</ul></section>{{/hasNarrower}}
    {{#hasVillages}}<form class="step" id="intake" method="post" action="/ui/intake">
      {{#hasError}}<p class="error" role="alert">{{error}}</p>{{/hasError}}
      <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="request_id" value="{{requestID}}">
      <p><label for="intake-village">村（社区）</label><select id="intake-village" name="village" required>{{#villages}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/villages}}</select></p>
      <p><label for="intake-source">来源</label><select id="intake-source" name="source">{{#sources}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/sources}}</select></p>
      <p><label for="intake-category">纠纷类别</label><select id="intake-category" name="category" required><option value="">请选择</option>{{#categories}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/categories}}</select></p>
      <p><label for="intake-description">纠纷情况</label><textarea id="intake-description" name="description" required maxlength="2000" rows="4">{{description}}</textarea></p>
      <fieldset><legend>当事人（至少一人；电话可不填）</legend>
      <table><thead><tr><th scope="col">姓名</th><th scope="col">电话</th><th scope="col">未成年</th></tr></thead><tbody>
      {{#parties}}<tr><td data-label="姓名"><label class="visually-hidden" for="party-name-{{index}}">当事人 {{number}} 姓名</label><input id="party-name-{{index}}" name="party_name_{{index}}" maxlength="50" value="{{name}}" autocomplete="off"></td>
      <td data-label="电话"><label class="visually-hidden" for="party-phone-{{index}}">当事人 {{number}} 电话</label><input id="party-phone-{{index}}" name="party_phone_{{index}}" maxlength="20" inputmode="tel" value="{{phone}}" autocomplete="off"></td>
      <td data-label="未成年"><label><input type="checkbox" name="party_minor_{{index}}"{{#minor}} checked{{/minor}}> <span class="visually-hidden">当事人 {{number}} </span>未成年</label></td></tr>{{/parties}}
      </tbody></table></fieldset>
      <fieldset><legend>风险情况</legend>
        <label><input type="checkbox" name="violence_occurred"{{#violenceOccurred}} checked{{/violenceOccurred}}> 已发生暴力</label>
        <label><input type="checkbox" name="threat_of_violence"{{#threatOfViolence}} checked{{/threatOfViolence}}> 有暴力威胁</label>
        <label><input type="checkbox" name="threat_of_self_harm"{{#threatOfSelfHarm}} checked{{/threatOfSelfHarm}}> 有自伤、自杀风险</label>
        <label><input type="checkbox" name="repeat_incident"{{#repeatIncident}} checked{{/repeatIncident}}> 多次发生</label>
        <p><label for="intake-police">此前报警次数</label><input id="intake-police" name="prior_police_calls" inputmode="numeric" maxlength="3" value="{{priorPoliceCalls}}"></p>
      </fieldset>
      <p><button type="submit">受理</button></p>
    </form>{{/hasVillages}}
    {{^hasVillages}}{{^hasNarrower}}<p class="empty">本中心辖区内没有村（社区）。</p>{{/hasNarrower}}{{/hasVillages}}
    """)

    func render() -> String { Self.template.render(self) }
}
