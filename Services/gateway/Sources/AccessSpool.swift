import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The access log's entries between the call that made them and the database, in files on
/// the gateway's own disk.
///
/// An entry is appended to the file being written (one `write`) as its call ends, and the
/// file is removed once a `COPY` has put its lines in `gateway.access_log`. What was written
/// is the kernel's once `write` returns, so a gateway killed outright loses none of it; a
/// machine that loses power can still lose what the kernel had not yet put on disk.
///
/// Each flush seals the file being written and starts the next one only when an entry comes.
/// A sealed file is named by a UUID that is recorded with its rows in the same transaction
/// (`gateway.access_spool_files`), so a file found again after a kill between that commit and
/// its removal is recognised and not copied twice.
///
/// One gateway at a time owns a directory: it holds an exclusive `flock` on `lock` there for
/// as long as it runs, and the kernel lets go of it when the process ends, however it ends.
final class AccessSpool: Sendable {
    /// A sealed file of entries, one line of `COPY`'s text format each.
    struct File: Sendable, Equatable {
        let id: UUID
        let url: URL
    }

    /// What a file holds: whole lines, and how many bytes followed the last one.
    struct Contents: Sendable {
        let lines: [UInt8]
        /// Bytes of a line whose `write` the gateway's death cut short: that entry was never
        /// recorded, and is left out rather than fail the `COPY` of the others.
        let tornBytes: Int
    }

    private struct Writing {
        let file: File
        let handle: FileHandle
        var length: UInt64
    }

    private struct State {
        var writing: Writing?
        /// Oldest first: leftovers of an earlier process, then this one's.
        var sealed: [File]
        /// Lines the disk refused (a full disk), oldest first; tried again at the next seal, not
        /// with every call, so a full disk costs a call an append to memory.
        var unwritten: [UInt8] = []
    }

    /// The most a full disk keeps in memory; beyond it the oldest held lines are dropped.
    static let unwrittenLimit = 64 << 20
    static let suffix = "copy"
    static let refusedSuffix = "refused"

    let directory: URL
    /// Whether this gateway made the directory (the default under `$TMPDIR`), so may remove it.
    private let madeDirectory: Bool
    private let lock: FileHandle
    private let state: Mutex<State>

    /// Takes `directory` for this gateway (creating it if missing) and finds the files an
    /// earlier gateway left there.
    init(directory: URL) throws(AccessSpoolError) {
        self.directory = directory
        let manager = FileManager.default
        let lockURL = directory.appendingPathComponent("lock")
        let lock: FileHandle
        madeDirectory = !manager.fileExists(atPath: directory.path)
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if !manager.fileExists(atPath: lockURL.path) {
                guard manager.createFile(atPath: lockURL.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                    throw AccessSpoolError.unusable(directory.path, "cannot create \(lockURL.lastPathComponent)")
                }
            }
            lock = try FileHandle(forUpdating: lockURL)
        } catch let error as AccessSpoolError {
            throw error
        } catch {
            throw .unusable(directory.path, "\(error)")
        }
        guard flock(lock.fileDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            throw .taken(directory.path)
        }
        self.lock = lock
        let names: [String]
        do {
            names = try manager.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw .unusable(directory.path, "\(error)")
        }
        // Oldest first, by when each was last written, so replayed rows arrive roughly in order.
        let leftovers = names.compactMap { name -> (File, Date)? in
            guard name.hasSuffix("." + Self.suffix), let id = UUID(uuidString: String(name.dropLast(Self.suffix.count + 1))) else { return nil }
            let url = directory.appendingPathComponent(name)
            let modified = (try? manager.attributesOfItem(atPath: url.path)[.modificationDate] as? Date) ?? .distantPast
            return (File(id: id, url: url), modified)
        }
        state = Mutex(State(sealed: leftovers.sorted { $0.1 < $1.1 }.map(\.0)))
    }

    /// Appends `line` (a whole line of `COPY` text) to the file being written, starting one if
    /// none is. While the disk refuses lines they are held in memory until the next seal.
    func append(_ line: [UInt8]) {
        state.withLock { state in
            guard state.unwritten.isEmpty else { return Self.hold(line, in: &state) }
            write(line, &state)
        }
    }

    /// Bytes held in memory because the disk refused them.
    var unwrittenBytes: Int { state.withLock { $0.unwritten.count } }

    /// Closes the file being written and returns every sealed file not yet removed, oldest
    /// first. Lines held in memory go into that file first, if the disk now takes them.
    func seal() -> [File] {
        state.withLock { state in
            if !state.unwritten.isEmpty {
                let held = state.unwritten
                state.unwritten = []
                write(held, &state)
            }
            if let writing = state.writing {
                try? writing.handle.close()
                state.sealed.append(writing.file)
                state.writing = nil
            }
            return state.sealed
        }
    }

    /// Writes `data` (whole lines) to the file being written, or holds it in memory if the
    /// disk refuses.
    private func write(_ data: [UInt8], _ state: inout State) {
        do {
            var writing = try state.writing ?? Self.start(in: directory)
            state.writing = writing
            do {
                try writing.handle.write(contentsOf: data)
            } catch {
                // Part of `data` may have reached the file: cut it back to the last whole line.
                try? writing.handle.truncate(atOffset: writing.length)
                throw error
            }
            writing.length += UInt64(data.count)
            state.writing = writing
        } catch {
            Self.hold(data, in: &state)
        }
    }

    /// Keeps `data` in memory after what is held already. Past ``unwrittenLimit`` the oldest
    /// lines go, down to three quarters of it, so the trimming is not paid on every call.
    private static func hold(_ data: [UInt8], in state: inout State) {
        state.unwritten += data
        if state.unwritten.count > unwrittenLimit { state.unwritten = lastLines(of: state.unwritten, within: unwrittenLimit / 4 * 3) }
    }

    /// The whole lines of a sealed file.
    func contents(of file: File) throws -> Contents {
        let data = try [UInt8](Data(contentsOf: file.url))
        guard let last = data.lastIndex(of: UInt8(ascii: "\n")) else { return Contents(lines: [], tornBytes: data.count) }
        return Contents(lines: Array(data[...last]), tornBytes: data.count - last - 1)
    }

    /// Keeps `lines` of `file` that the database refuses for good beside it, as
    /// `<id>.refused`, for the operator to read: never copied again, and never removed by the
    /// gateway once the file is written. Written whole each time the file is tried, and removed
    /// when nothing is refused (the cause was mended before a failed commit was tried again),
    /// so a line is never both in the table and set aside.
    func setAside(_ lines: [UInt8], of file: File) throws -> URL {
        let url = file.url.deletingPathExtension().appendingPathExtension(Self.refusedSuffix)
        if lines.isEmpty {
            do { try FileManager.default.removeItem(at: url) } catch CocoaError.fileNoSuchFile {}
        } else {
            try Data(lines).write(to: url, options: .atomic)
        }
        return url
    }

    /// Removes a sealed file whose lines are in the database.
    func remove(_ file: File) throws {
        do {
            try FileManager.default.removeItem(at: file.url)
        } catch CocoaError.fileNoSuchFile {
            // Gone already: what matters is that it is not copied again.
        }
        state.withLock { $0.sealed.removeAll { $0 == file } }
    }

    /// At a clean shutdown, after the last flush: removes the directory if this gateway made it
    /// and nothing waits in it, so that gateways started and stopped (tests, a developer's
    /// runs) leave no trace. A directory the operator gave stays, and so does one with files.
    func removeIfDrained() {
        guard madeDirectory else { return }
        state.withLock { state in
            guard state.writing == nil, state.sealed.isEmpty, state.unwritten.isEmpty,
                  (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) == ["lock"] else { return }
            try? FileManager.default.removeItem(at: directory)
        }
    }

    private static func start(in directory: URL) throws -> Writing {
        let id = UUID()
        let url = directory.appendingPathComponent("\(id.uuidString.lowercased()).\(suffix)")
        // A call still finishing after ``removeIfDrained()`` finds its directory again.
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw AccessSpoolError.unusable(directory.path, "cannot create \(url.lastPathComponent)")
        }
        return Writing(file: File(id: id, url: url), handle: try FileHandle(forWritingTo: url), length: 0)
    }

    /// The last whole lines of `data` that fit in `limit` bytes.
    private static func lastLines(of data: [UInt8], within limit: Int) -> [UInt8] {
        let from = data.count - limit
        guard let newline = data[(from - 1)...].firstIndex(of: UInt8(ascii: "\n")) else { return [] }
        return Array(data[(newline + 1)...])
    }
}

/// Why the gateway cannot keep its access log's spool where `ACCESS_LOG_SPOOL` says.
enum AccessSpoolError: Error, CustomStringConvertible {
    case unusable(String, String)
    case taken(String)

    var description: String {
        switch self {
        case .unusable(let directory, let problem): "\(directory) cannot hold the access log's spool: \(problem)"
        case .taken(let directory): "\(directory) is the access log's spool of another gateway that is running; give each gateway its own"
        }
    }
}
