import Foundation
@testable import GridService
import PinganRuntime
import PinganTestSupport
import Testing

/// Reading an import file: line numbers as an editor shows them, whatever the chunking.
@Suite("import lines and settings")
struct ImportLinesTests {
    static func all(_ lines: ImportLines) throws -> [(Int, String)] {
        var lines = lines
        var read: [(Int, String)] = []
        while let line = try lines.next() { read.append((line.number, line.text)) }
        return read
    }

    @Test func lineEndingsByteOrderMarkAndBlankLinesKeepTheNumbering() throws {
        let read = try Self.all(ImportLines(text: "\u{FEFF}{\"a\":1}\r\n\n{\"b\":2}\n{\"c\":3}"))
        #expect(read.map(\.0) == [1, 2, 3, 4])
        #expect(read.map(\.1) == ["{\"a\":1}", "", "{\"b\":2}", "{\"c\":3}"])
    }

    @Test func aFileIsReadInChunksAcrossLineBoundaries() throws {
        let path = NSTemporaryDirectory() + "pingan-lines-\(UUID().uuidString).ndjson"
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Lines of varying length, several chunks' worth, so chunk ends fall inside lines.
        let expected = (1...20_000).map { "{\"legacy_id\":\"L-\($0)\",\"note\":\"\(String(repeating: "网", count: $0 % 37))\"}" }
        try (expected.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let read = try Self.all(try ImportLines(path: path))
        #expect(read.count == expected.count)
        #expect(read.map(\.1) == expected)
        #expect(read.last?.0 == 20_000)
    }

    @Test func aLineLongerThanTheLimitStopsTheImport() throws {
        let path = NSTemporaryDirectory() + "pingan-long-\(UUID().uuidString).ndjson"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ("{}\n" + String(repeating: "x", count: ImportLines.maxLineBytes + 10) + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var lines = try ImportLines(path: path)
        #expect(try lines.next()?.number == 1)
        #expect(throws: ImportError.lineTooLong(2, limit: ImportLines.maxLineBytes)) { try lines.next() }
        #expect(throws: ImportError.cannotOpen("/nonexistent/file.ndjson")) { try ImportLines(path: "/nonexistent/file.ndjson") }
    }

    @Test func retentionIsASettingWithADefaultAndZeroKeepsEverything() throws {
        let base = ["MESH_SECRET": "pingan-test-mesh-secret-0123456789abcdef"]
        #expect(try GridSettings(SettingsReader(base)).screeningRetention == ScreeningRetention(months: 36))
        #expect(try GridSettings(SettingsReader(base.merging(["SCREENING_RETENTION_MONTHS": "0"]) { $1 })).screeningRetention == .forever)
        #expect(try GridSettings(SettingsReader(base.merging(["SCREENING_RETENTION_MONTHS": "12"]) { $1 })).screeningRetention.months == 12)
        expectRefused("SCREENING_RETENTION_MONTHS", ["-1", "three"], over: base) { try GridSettings($0) }
    }
}

/// The importer's own reader of a line's JSON object against `JSONSerialization`: the same
/// lines are objects, with the same values.
@Suite("import JSON lines")
struct JSONLineTests {
    /// What `JSONSerialization` reads from `text`, as ``ImportValue``s; `nil` when it is not one object.
    static func reference(_ text: String) -> [String: ImportValue]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        return object.mapValues { value in
            switch value {
            case let text as String: .string(text)
            case let number as NSNumber where type(of: number) == NSNumber.self: .number(number.doubleValue)
            case let flag as NSNumber: .bool(flag.boolValue)
            case is NSNull: .null
            default: .nested
            }
        }
    }

    @Test(arguments: [
        #"{"a":"b","n":12,"x":-0.5e3,"t":true,"f":false,"z":null}"#,
        #"  { "legacy_id" : "PC-1" , "day":"2025-12-02"}  "#,
        #"{}"#,
        #"{"s":"网格\"引号\\反斜杠\/斜杠\n\t\u00e9\ud83d\ude00"}"#,
        #"{"nested":{"a":[1,2,{"b":[]}]},"list":[]}"#,
        #"{"big":1e400,"small":0.000001,"zero":0,"neg":-7}"#,
        #"{"a":1,"a":2}"#,
        #"{"legacy_id": "G-2", "name": "#,
        #"[1, 2]"#,
        #""text""#,
        #"{"a":01}"#,
        #"{"a":1.}"#,
        #"{"a":.5}"#,
        #"{"a":+1}"#,
        #"{"a":tru}"#,
        #"{"a":"unterminated}"#,
        #"{"a":"\x"}"#,
        #"{"a":"\ud800"}"#,
        #"{"a":1,}"#,
        #"{"a" 1}"#,
        #"{a:1}"#,
        #"{"a":1} x"#,
        #"{"a":[1,]}"#,
        "{\"a\":\"tab\there\"}",
        "",
    ])
    func readsWhatJSONSerializationReads(_ text: String) {
        #expect(JSONLine.object(text) == Self.reference(text))
    }

    @Test func nestingDeeperThanTheLimitIsRefused() {
        let deep = "{\"a\":" + String(repeating: "[", count: JSONLine.maxDepth + 1) + String(repeating: "]", count: JSONLine.maxDepth + 1) + "}"
        #expect(JSONLine.object(deep) == nil)
        let shallow = "{\"a\":" + String(repeating: "[", count: 10) + String(repeating: "]", count: 10) + "}"
        #expect(JSONLine.object(shallow) == ["a": .nested])
    }
}
