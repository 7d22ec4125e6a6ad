import Foundation

/// The rows a statement returned, copied out of libpq's result so they outlive it.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// Column names and type OIDs, in order.
    public let columns: [PostgresColumn]
    let cells: [[[UInt8]?]]
    /// Rows inserted, updated or deleted, for commands that report it.
    public let affectedRows: Int

    public var startIndex: Int { cells.startIndex }
    public var endIndex: Int { cells.endIndex }
    public subscript(position: Int) -> PostgresRow {
        PostgresRow(columns: columns, cells: cells[position])
    }
}

/// A result column's name and type.
public struct PostgresColumn: Sendable, Hashable {
    public let name: String
    public let typeOID: UInt32
}

/// One row of a result; decode its cells by position or by column name.
public struct PostgresRow: Sendable {
    public let columns: [PostgresColumn]
    let cells: [[UInt8]?]

    /// Decodes the cell at `index` as `T`; a NULL cell decodes only into an `Optional`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at index: Int) throws -> T {
        guard columns.indices.contains(index) else {
            throw PostgresError(.decoding, "no column at index \(index); the row has \(columns.count)")
        }
        return try T.decode(PostgresCell(bytes: cells[index], column: columns[index]))
    }

    /// Decodes the cell at `index`, an array of records (`ARRAY(SELECT ROW(...) ...)`), into
    /// one row per record whose cells decode like any row's: a record's children read in the
    /// same statement as the record, instead of a statement per child table.
    ///
    /// The fields are named `<column>.1`, `<column>.2`, ... in errors; an empty array, or
    /// NULL, is no rows.
    public func records(at index: Int) throws -> [PostgresRow] {
        guard columns.indices.contains(index) else {
            throw PostgresError(.decoding, "no column at index \(index); the row has \(columns.count)")
        }
        let column = columns[index]
        guard column.typeOID == PostgresType.recordArray else {
            throw PostgresError(.decoding, "column \"\(column.name)\" of type OID \(column.typeOID) is not an array of records")
        }
        guard let bytes = cells[index] else { return [] }
        var reader = BinaryReader(bytes)
        let dimensions = try reader.integer(Int32.self)
        _ = try reader.integer(Int32.self)  // has-null flag
        _ = try reader.integer(UInt32.self)  // element type
        if dimensions == 0 { return [] }
        guard dimensions == 1 else {
            throw PostgresError(.decoding, "column \"\(column.name)\" has \(dimensions) dimensions; only 1 is supported")
        }
        let count = try reader.integer(Int32.self)
        _ = try reader.integer(Int32.self)  // lower bound
        var rows: [PostgresRow] = []
        rows.reserveCapacity(Int(max(0, count)))
        for _ in 0..<count {
            let length = try reader.integer(Int32.self)
            guard length >= 0 else { throw PostgresError(.decoding, "column \"\(column.name)\" holds a NULL record") }
            rows.append(try Self.record(try reader.take(Int(length)), in: column.name))
        }
        return rows
    }

    /// One record in binary form: its field count, then each field's type OID, length (-1
    /// for NULL) and bytes.
    private static func record(_ bytes: [UInt8], in name: String) throws -> PostgresRow {
        var reader = BinaryReader(bytes)
        let count = try reader.integer(Int32.self)
        var columns: [PostgresColumn] = []
        var cells: [[UInt8]?] = []
        columns.reserveCapacity(Int(max(0, count)))
        cells.reserveCapacity(Int(max(0, count)))
        for field in 0..<count {
            let type = try reader.integer(UInt32.self)
            let length = try reader.integer(Int32.self)
            columns.append(PostgresColumn(name: "\(name).\(field + 1)", typeOID: type))
            cells.append(length < 0 ? nil : try reader.take(Int(length)))
        }
        return PostgresRow(columns: columns, cells: cells)
    }

    /// Decodes the cell in the column named `name` as `T`.
    public func decode<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let index = columns.firstIndex(where: { $0.name == name }) else {
            throw PostgresError(.decoding, "no column named \"\(name)\"")
        }
        return try decode(type, at: index)
    }
}

/// One cell in PostgreSQL's binary format, with the column it came from.
public struct PostgresCell: Sendable {
    /// The raw binary value, or `nil` for SQL NULL.
    public let bytes: [UInt8]?
    public let column: PostgresColumn

    func mismatch(_ swiftType: Any.Type) -> PostgresError {
        PostgresError(.decoding, "column \"\(column.name)\" of type OID \(column.typeOID) cannot be decoded as \(swiftType)")
    }

    /// The non-NULL bytes, or a decoding error naming the column.
    func required(_ swiftType: Any.Type) throws -> [UInt8] {
        guard let bytes else {
            throw PostgresError(.decoding, "column \"\(column.name)\" is NULL; decode it as \(swiftType)?")
        }
        return bytes
    }
}

/// A Swift type that can be read from a binary-format result cell.
public protocol PostgresDecodable: Sendable {
    static func decode(_ cell: PostgresCell) throws -> Self
}

/// Reads big-endian integers from a binary cell.
struct BinaryReader {
    private let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw PostgresError(.decoding, "binary value is truncated") }
        var value: T = 0
        for byte in bytes[offset..<(offset + size)] { value = (value << 8) | T(byte) }
        offset += size
        return value
    }

    mutating func take(_ count: Int) throws -> [UInt8] {
        guard count >= 0, remaining >= count else { throw PostgresError(.decoding, "binary value is truncated") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }
}

extension Int: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Int {
        var reader = BinaryReader(try cell.required(Int.self))
        switch cell.column.typeOID {
        case PostgresType.int8: return Int(try reader.integer(Int64.self))
        case PostgresType.int4: return Int(try reader.integer(Int32.self))
        case PostgresType.int2: return Int(try reader.integer(Int16.self))
        default: throw cell.mismatch(Int.self)
        }
    }
}

extension Int64: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Int64 { Int64(try Int.decode(cell)) }
}

extension Int32: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Int32 {
        let value = try Int.decode(cell)
        guard let narrowed = Int32(exactly: value) else {
            throw PostgresError(.decoding, "column \"\(cell.column.name)\" value \(value) does not fit Int32")
        }
        return narrowed
    }
}

extension Bool: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Bool {
        let bytes = try cell.required(Bool.self)
        guard cell.column.typeOID == PostgresType.bool, bytes.count == 1 else { throw cell.mismatch(Bool.self) }
        return bytes[0] != 0
    }
}

extension Double: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Double {
        var reader = BinaryReader(try cell.required(Double.self))
        switch cell.column.typeOID {
        case PostgresType.float8: return Double(bitPattern: try reader.integer(UInt64.self))
        case PostgresType.float4: return Double(Float(bitPattern: try reader.integer(UInt32.self)))
        case PostgresType.int8, PostgresType.int4, PostgresType.int2: return Double(try Int.decode(cell))
        default: throw cell.mismatch(Double.self)
        }
    }
}

extension String: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> String {
        let bytes = try cell.required(String.self)
        switch cell.column.typeOID {
        case PostgresType.text, PostgresType.varchar, PostgresType.bpchar, PostgresType.name,
             PostgresType.char, PostgresType.unknown, PostgresType.json:
            return String(decoding: bytes, as: UTF8.self)
        default:
            throw cell.mismatch(String.self)
        }
    }
}

extension UUID: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> UUID {
        let bytes = try cell.required(UUID.self)
        guard cell.column.typeOID == PostgresType.uuid, bytes.count == 16 else { throw cell.mismatch(UUID.self) }
        return UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        ))
    }
}

extension Date: PostgresDecodable {
    /// PostgreSQL's epoch for timestamps, 2000-01-01 00:00:00 UTC, in Unix seconds.
    static let postgresEpoch: TimeInterval = 946_684_800

    public static func decode(_ cell: PostgresCell) throws -> Date {
        var reader = BinaryReader(try cell.required(Date.self))
        switch cell.column.typeOID {
        case PostgresType.timestamptz, PostgresType.timestamp:
            let micros = try reader.integer(Int64.self)
            if micros == .max { return .distantFuture }
            if micros == .min { return .distantPast }
            return Date(timeIntervalSince1970: postgresEpoch + TimeInterval(micros) / 1_000_000)
        default:
            throw cell.mismatch(Date.self)
        }
    }
}

extension Data: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Data {
        let bytes = try cell.required(Data.self)
        guard cell.column.typeOID == PostgresType.bytea else { throw cell.mismatch(Data.self) }
        return Data(bytes)
    }
}

extension PostgresJSON: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> PostgresJSON {
        let bytes = try cell.required(PostgresJSON.self)
        switch cell.column.typeOID {
        case PostgresType.jsonb:
            // Binary jsonb is a one-byte format version followed by the text.
            guard bytes.first == 1 else { throw PostgresError(.decoding, "unsupported jsonb format version") }
            return PostgresJSON(String(decoding: bytes.dropFirst(), as: UTF8.self))
        case PostgresType.json:
            return PostgresJSON(String(decoding: bytes, as: UTF8.self))
        default:
            throw cell.mismatch(PostgresJSON.self)
        }
    }
}

extension Array: PostgresDecodable where Element == String {
    /// Decodes a one-dimensional `text[]` or `varchar[]`; NULL elements are refused.
    public static func decode(_ cell: PostgresCell) throws -> [String] {
        var reader = BinaryReader(try cell.required([String].self))
        guard cell.column.typeOID == PostgresType.textArray || cell.column.typeOID == PostgresType.varcharArray else {
            throw cell.mismatch([String].self)
        }
        let dimensions = try reader.integer(Int32.self)
        _ = try reader.integer(Int32.self)  // has-null flag
        _ = try reader.integer(UInt32.self)  // element type
        if dimensions == 0 { return [] }
        guard dimensions == 1 else {
            throw PostgresError(.decoding, "column \"\(cell.column.name)\" has \(dimensions) dimensions; only 1 is supported")
        }
        let count = try reader.integer(Int32.self)
        _ = try reader.integer(Int32.self)  // lower bound
        var elements: [String] = []
        elements.reserveCapacity(Int(count))
        for _ in 0..<count {
            let length = try reader.integer(Int32.self)
            guard length >= 0 else {
                throw PostgresError(.decoding, "column \"\(cell.column.name)\" holds a NULL element")
            }
            elements.append(String(decoding: try reader.take(Int(length)), as: UTF8.self))
        }
        return elements
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Wrapped? {
        guard cell.bytes != nil else { return nil }
        return try Wrapped.decode(cell)
    }
}
