import PinganConnect
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
