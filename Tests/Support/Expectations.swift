import PinganConnect
import PinganRuntime
import Testing

/// Expects `call` to fail with a Connect error of `code` whose message contains `text`.
public func expectCode(
    _ code: ConnectCode, containing text: String = "", sourceLocation: SourceLocation = #_sourceLocation,
    _ call: () async throws -> Void
) async {
    do {
        try await call()
        Issue.record("expected \(code), the call succeeded", sourceLocation: sourceLocation)
    } catch let error as ConnectError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(text.isEmpty || error.message.contains(text), "message \"\(error.message)\" lacks \"\(text)\"", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a ConnectError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Expects reading settings from `base` with `variable` set to each of `values` to stop the
/// service at start, with an error that names the variable.
public func expectRefused<Settings>(
    _ variable: String, _ values: [String], over base: [String: String], sourceLocation: SourceLocation = #_sourceLocation,
    _ read: (SettingsReader) throws -> Settings
) {
    for value in values {
        #expect(sourceLocation: sourceLocation) {
            _ = try read(SettingsReader(base.merging([variable: value]) { $1 }))
        } throws: { error in
            error is ConfigurationError && "\(error)".contains(variable)
        }
    }
}
