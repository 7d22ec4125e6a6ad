import Foundation

/// Directories for files a test leaves on disk (a gateway's access-log spool), under one
/// directory of this test process's own, removed when the process exits: a test run leaves
/// nothing in the machine's temporary directory.
public enum TestScratch {
    /// A path under this process's directory, not yet made: the code under test makes it, as
    /// it would make its own.
    public static func path(_ prefix: String) -> URL {
        parent.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    }

    private static let parent: URL = {
        atexit { try? FileManager.default.removeItem(at: TestScratch.directoryOfThisProcess) }
        return directoryOfThisProcess
    }()

    private static var directoryOfThisProcess: URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("pingan-tests-\(getpid())")
    }
}
