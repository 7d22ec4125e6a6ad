import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PinganConnect
import PinganContracts
import SwiftProtobuf

/// Calls a service's Connect methods in process, through its real responder and router
/// (Hummingbird's `.router` test framework: no sockets), with JSON bodies as a Connect
/// client sends them. A Connect error comes back as ``ConnectError``.
///
/// ```swift
/// try await app.test(.router) { client in
///     let rpc = InProcessClient(client)
///     let reply = try await rpc.call(DisputeServiceMethods.getCase, request, headers: [principal])
/// }
/// ```
public struct InProcessClient: Sendable {
    let client: any TestClientProtocol

    public init(_ client: any TestClientProtocol) { self.client = client }

    public func call<Input, Output>(
        _ method: ConnectMethod<Input, Output>, _ request: Input, headers: [(String, String)] = []
    ) async throws -> Output {
        var fields: HTTPFields = [.contentType: ConnectCodec.json.rawValue]
        for (name, value) in headers {
            guard let field = HTTPField.Name(name) else { throw ConnectError(.invalidArgument, "bad header \(name)") }
            fields[field] = value
        }
        let body = try ConnectCodec.json.encode(request)
        let response = try await client.executeRequest(uri: method.path, method: .post, headers: fields, body: ByteBuffer(bytes: body))
        let bytes = Array(buffer: response.body)
        guard response.status == .ok else { throw ConnectError(httpStatus: response.status.code, body: bytes) }
        return try ConnectCodec.json.decode(Output.self, from: bytes)
    }

    /// A plain GET, for `/metrics`, `/readyz` and `/healthz`.
    public func get(_ path: String) async throws -> (status: Int, body: String) {
        let response = try await client.executeRequest(uri: path, method: .get, headers: [:], body: nil)
        return (response.status.code, String(buffer: response.body))
    }
}
