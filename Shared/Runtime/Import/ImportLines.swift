import Foundation

/// The lines of an import file, read 256 KiB at a time, so an import holds one batch in memory
/// whatever the size of the file.
///
/// Lines end in `\n` or `\r\n`; a UTF-8 byte order mark at the start is skipped. Line numbers
/// count every line, blank ones included, so they match what an editor shows.
public struct ImportLines: Sendable {
    /// The longest line accepted; a longer one stops the import (it is not a record).
    public static let maxLineBytes = 1 << 20
    static let chunkBytes = 256 << 10

    private let handle: FileHandle?
    private var buffer: [UInt8]
    private var start = 0
    private var atEnd: Bool
    private var number = 0

    /// Reads the file at `path`.
    public init(path: String) throws(ImportError) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .cannotOpen(path) }
        self.handle = handle
        buffer = []
        atEnd = false
    }

    /// Reads lines from `text`, for tests and small inputs.
    public init(text: String) {
        handle = nil
        buffer = Array(text.utf8)
        atEnd = true
    }

    /// The next line and its number, or `nil` at the end of the file.
    public mutating func next() throws(ImportError) -> (number: Int, text: String)? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                guard newline - start <= Self.maxLineBytes else { throw .lineTooLong(number + 1, limit: Self.maxLineBytes) }
                return take(upTo: newline, skip: 1)
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                guard buffer.count - start <= Self.maxLineBytes else { throw .lineTooLong(number + 1, limit: Self.maxLineBytes) }
                return take(upTo: buffer.count, skip: 0)
            }
            guard buffer.count - start <= Self.maxLineBytes else { throw .lineTooLong(number + 1, limit: Self.maxLineBytes) }
            try fill()
        }
    }

    private mutating func take(upTo end: Int, skip: Int) -> (number: Int, text: String) {
        var bytes = buffer[start..<end]
        if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
        if number == 0, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        start = end + skip
        number += 1
        return (number, String(decoding: bytes, as: UTF8.self))
    }

    private mutating func fill() throws(ImportError) {
        // Keep only the unread part, then append the next chunk.
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let chunk: Data?
        do {
            chunk = try handle?.read(upToCount: Self.chunkBytes)
        } catch {
            throw .unreadable("\(error)")
        }
        guard let chunk, !chunk.isEmpty else {
            atEnd = true
            return
        }
        buffer.append(contentsOf: chunk)
    }
}

/// Why an import stopped before the end of its file. (A refused row does not stop it: see
/// ``ImportRefusal``.)
public enum ImportError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotOpen(String)
    case unreadable(String)
    case lineTooLong(Int, limit: Int)
    case badArgument(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path): "cannot open \(path) for reading"
        case .unreadable(let problem): "the file could not be read: \(problem)"
        case let .lineTooLong(line, limit): "line \(line): longer than \(limit) bytes; an import file holds one JSON object per line"
        case .badArgument(let problem): problem
        }
    }
}
