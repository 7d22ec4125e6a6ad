import Foundation
@testable import NotifyService
import Testing

/// notify's hand-written JSON writer: its bytes are part of what receivers sign-check, so the
/// tests pin them exactly, including where Foundation's encoders would write them otherwise.
@Suite("notify's JSON writer")
struct JSONObjectTextTests {
    @Test("keys come out in alphabetical order whatever order they were added in")
    func sortedKeys() {
        var inner = JSONObjectText()
        inner.add("b", 2)
        inner.add("a", "x")
        var object = JSONObjectText()
        object.add("z", ["p", "q"])
        object.add("m", object: inner)
        object.add("a", -1)
        #expect(object.text == #"{"a":-1,"m":{"a":"x","b":2},"z":["p","q"]}"#)
        #expect(JSONObjectText().text == "{}")
    }

    @Test("strings escape quotes, backslashes and control characters, and nothing else")
    func strings() {
        let bytes = JSONObjectText.string("\"\\/\n\r\t\u{00}\u{08}\u{0c}\u{1f}\u{7f} 平安 <&>")
        #expect(String(decoding: bytes, as: UTF8.self) == #""\"\\/\n\r\t\u0000\u0008\u000c\u001f"# + "\u{7f} 平安 <&>\"")
    }

    @Test("what it writes reads back as what was written")
    func roundTrip() throws {
        let awkward = "他说\"滚\" \\ 路径/a\n第二行\r\t\u{01}\u{08}\u{0c}\u{1f}end"
        var object = JSONObjectText()
        object.add("text", awkward)
        object.add("list", [awkward, ""])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(object.text.utf8)) as? [String: Any])
        #expect(parsed["text"] as? String == awkward && parsed["list"] as? [String] == [awkward, ""])
    }
}
