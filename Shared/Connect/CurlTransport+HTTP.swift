import Foundation

/// The answer to a plain HTTP request outside the Connect protocol.
public struct HTTPReply: Sendable {
    public let status: Int
    public let body: [UInt8]
    /// True when the answer was longer than the caller would read.
    public var truncated = false
}

extension CurlTransport {
    /// POSTs `body` to any URL, for webhooks to systems outside the mesh. Transport failures
    /// arrive as ``ConnectError`` (`unavailable`, `deadline_exceeded`) like RPC failures do.
    /// - Parameters:
    ///   - resolve: `host:port:address` pins, so curl connects where a check said it may.
    ///   - maxResponseBytes: the most of the answer read; a bigger one is cut off there.
    public func post(
        url: String, headers: [(String, String)], body: [UInt8], timeout: Duration,
        resolve: [String] = [], maxResponseBytes: Int = 1 << 20
    ) async throws -> HTTPReply {
        var request = CurlRequest(url: url, headers: headers, body: body, timeout: timeout, connectTimeout: .seconds(2))
        request.resolve = resolve
        request.maxResponseBytes = maxResponseBytes
        let response = try await performReporting(request)
        return HTTPReply(status: response.status, body: response.body, truncated: response.truncated)
    }

    /// A plain GET, for health and readiness probes.
    public func get(url: String, timeout: Duration = .seconds(5)) async throws -> HTTPReply {
        let response = try await performReporting(CurlRequest(method: .get, url: url, headers: [], body: [], timeout: timeout, connectTimeout: .seconds(2)))
        return HTTPReply(status: response.status, body: response.body)
    }

    /// Sends `message` (a whole RFC 5322 message) through the SMTP server at `url`
    /// (`smtp://host:port`); the reply's status is the server's last SMTP code (250 when
    /// accepted). Failures arrive as ``ConnectError`` like RPC failures do.
    public func mail(url: String, from: String, to recipients: [String], message: [UInt8], timeout: Duration) async throws -> HTTPReply {
        let response = try await performReporting(CurlRequest(
            method: .mail(from: from, recipients: recipients), url: url, headers: [], body: message, timeout: timeout, connectTimeout: .seconds(2)
        ))
        return HTTPReply(status: response.status, body: response.body)
    }

    /// Performs `request`, its transport failures as ``ConnectError``.
    private func performReporting(_ request: CurlRequest) async throws -> CurlResponse {
        let deadline = ContinuousClock.now + request.timeout
        do {
            return try await perform(request)
        } catch let failure as CurlFailure {
            throw ConnectClient.connectError(failure, path: request.url, request: request, deadline: deadline)
        }
    }
}
