import Foundation
@testable import GatewayService
import Mustache
import Testing

/// ``PageTemplate`` reads a model once before rendering; a page must come out exactly as
/// swift-mustache renders the model itself, whatever the model holds.
@Suite("page templates")
struct PageTemplateTests {
    enum Kind: String { case neighbour, land }

    struct Money: CustomStringConvertible {
        let fen: Int
        var description: String { String(format: "¥%d.%02d", fen / 100, fen % 100) }
    }

    struct Row {
        let name: String
        let note: String?
        let fee: Money
        let kind: Kind
        let tags: [String]
        let done: Bool
    }

    struct Model {
        let title: String
        let csrf: String
        let note: String
        let rows: [Row]
        let empty: [Row]
        let owner: Row?
        let missing: Row?
        let count: Int
        let share: Double
        let at: Date
        let pair: (left: String, right: Int)
    }

    static let text = """
    <h1>{{title}}</h1>{{count}} {{share}} {{at}} {{pair.left}}{{pair.right}}
    {{#rows}}<li>{{name}}: {{note}} {{fee}} {{fee.fen}} {{kind}} {{#done}}done{{/done}}{{^done}}open{{/done}}
    {{#tags}}[{{.}}]{{/tags}}{{^tags}}no tags{{/tags}} <input name="csrf" value="{{csrf}}">{{title}}</li>{{/rows}}
    {{^empty}}nothing{{/empty}}{{#owner}}owner {{name}} {{.note}}{{/owner}}{{#missing}}never{{/missing}}{{^missing}}no one{{/missing}}
    {{#rows}}{{#first()}}first {{name}}{{/first()}}{{/rows}} {{{title}}}
    """

    static let model = Model(
        title: "<调解> & co", csrf: "f00d", note: "page note",
        rows: [
            Row(name: "一村", note: nil, fee: Money(fen: 1_050), kind: .neighbour, tags: ["邻里", "噪音"], done: true),
            Row(name: "二村", note: "补录", fee: Money(fen: 7), kind: .land, tags: [], done: false),
        ],
        empty: [],
        owner: Row(name: "调解员", note: nil, fee: Money(fen: 0), kind: .land, tags: [], done: false),
        missing: nil, count: 3, share: 0.25, at: Date(timeIntervalSince1970: 1_796_000_000), pair: (left: "L", right: 2)
    )

    @Test func rendersWhatMustacheRendersFromTheModelItself() throws {
        let expected = try MustacheTemplate(string: Self.text).render(Self.model)
        let rendered = try PageTemplate(Self.text).render(Self.model)
        #expect(rendered == expected)
        // The lookups the equality rests on, so that it cannot pass by both rendering nothing:
        // a nil property is looked up further out, a struct renders as its description, and
        // an enum as its case.
        #expect(rendered.contains("<li>一村: page note ¥10.50 1050 neighbour done"))
        #expect(rendered.contains("[邻里][噪音]") && rendered.contains("no tags") && rendered.contains("value=\"f00d\""))
        #expect(rendered.contains("nothingowner 调解员 no one") && rendered.contains("first 一村"))
        #expect(rendered.contains("&lt;调解&gt; &amp; co") && rendered.hasSuffix("<调解> & co"))
    }

    @Test func readsEachStructOnceIntoItsStoredProperties() throws {
        let read = try #require(TemplateModel.read(Self.model) as? TemplateObject)
        let rows = try #require(read.child(named: "rows") as? [Any])
        let first = try #require(rows.first as? TemplateObject)
        #expect(first.child(named: "name") as? String == "一村")
        #expect(first.child(named: "note") == nil)
        #expect(first.child(named: "fee") is TemplateObject)
        #expect(String(describing: try #require(first.child(named: "fee"))) == "¥10.50")
        #expect(read.child(named: "missing") == nil && read.child(named: "description") == nil)
    }
}
