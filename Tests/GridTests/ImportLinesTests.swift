import Foundation
@testable import GridService
import PinganRuntime
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
        #expect(throws: ConfigurationError.self) { try GridSettings(SettingsReader(base.merging(["SCREENING_RETENTION_MONTHS": "-1"]) { $1 })) }
    }
}
