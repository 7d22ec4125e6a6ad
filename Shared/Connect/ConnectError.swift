import Foundation
import Logging

/// The Connect protocol's error codes (https://connectrpc.com/docs/protocol#error-codes).
///
/// The set is fixed by the protocol, so this is a closed enum.
public enum ConnectCode: String, Sendable, CaseIterable, Codable {
    case canceled
    case unknown
    case invalidArgument = "invalid_argument"
    case deadlineExceeded = "deadline_exceeded"
    case notFound = "not_found"
    case alreadyExists = "already_exists"
    case permissionDenied = "permission_denied"
    case resourceExhausted = "resource_exhausted"
    case failedPrecondition = "failed_precondition"
    case aborted
    case outOfRange = "out_of_range"
    case unimplemented
    case `internal`
    case unavailable
    case dataLoss = "data_loss"
    case unauthenticated

    /// The HTTP status a unary Connect response carries for this code.
    public var httpStatus: Int {
        switch self {
        case .canceled: 499
        case .unknown, .internal, .dataLoss: 500
        case .invalidArgument, .failedPrecondition, .outOfRange: 400
        case .deadlineExceeded: 504
        case .notFound: 404
        case .alreadyExists, .aborted: 409
        case .permissionDenied: 403
        case .resourceExhausted: 429
        case .unimplemented: 501
        case .unavailable: 503
        case .unauthenticated: 401
        }
    }

    /// The code a client infers from an HTTP status when the body holds no Connect error.
    public init(httpStatus: Int) {
        switch httpStatus {
        case 400: self = .internal
        case 401: self = .unauthenticated
        case 403: self = .permissionDenied
        case 404: self = .unimplemented
        case 429, 502, 503, 504: self = .unavailable
        default: self = .unknown
        }
    }
}

/// An error that crosses the wire: a Connect code and a message meant for the caller.
///
/// - Important: The message is shown to callers. Say what is wrong with *their* request
///   (name the field); never put internal details or data they may not see in it.
public struct ConnectError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: ConnectCode
    public let message: String

    public init(_ code: ConnectCode, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A bad field in the request: the message starts with the field's JSON path.
    public static func invalidArgument(field: String, _ problem: String) -> ConnectError {
        ConnectError(.invalidArgument, "\(field): \(problem)")
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// The error as the JSON body of a unary Connect response.
    public var jsonBody: Data {
        let body = WireError(code: code.rawValue, message: message)
        return (try? JSONEncoder().encode(body)) ?? Data(#"{"code":"internal"}"#.utf8)
    }

    /// Reads a Connect error body; falls back to the HTTP status when the body is not one.
    public init(httpStatus: Int, body: [UInt8]) {
        if let wire = try? JSONDecoder().decode(WireError.self, from: Data(body)),
           let code = wire.code.flatMap(ConnectCode.init(rawValue:)) {
            self.init(code, wire.message ?? "")
        } else {
            self.init(ConnectCode(httpStatus: httpStatus), "HTTP status \(httpStatus)")
        }
    }

    private struct WireError: Codable {
        var code: String?
        var message: String?
    }
}

/// An error from below the wire (a store, a database, the domain) that knows which Connect
/// error its caller should see. Libraries and services conform their own error types, so
/// the protocol layer maps them without knowing them.
public protocol ConnectErrorConvertible: Error {
    /// The error to send, or `nil` to answer `internal`.
    var connectError: ConnectError? { get }
}

extension ConnectError {
    static func bodyTooLarge(limit: Int) -> ConnectError {
        ConnectError(.resourceExhausted, "request body is larger than the limit of \(limit) bytes")
    }

    /// The error to send for anything a handler threw. Anything that is not a Connect error
    /// and says nothing of itself becomes `internal`, logged here and never described to the
    /// caller.
    public static func wrapping(_ error: any Error, logger: Logger) -> ConnectError {
        switch error {
        case let error as ConnectError:
            return error
        case let rejection as RequestRejection:
            return rejection.error
        case let convertible as any ConnectErrorConvertible:
            if let mapped = convertible.connectError {
                if mapped.code == .unavailable { logger.warning("dependency unavailable", metadata: ["error": "\(error)"]) }
                return mapped
            }
            logger.error("unexpected error in handler", metadata: ["error": "\(error)"])
            return ConnectError(.internal, "internal error")
        case is CancellationError:
            return ConnectError(.canceled, "the call was canceled")
        default:
            logger.error("unexpected error in handler", metadata: ["error": "\(error)"])
            return ConnectError(.internal, "internal error")
        }
    }
}
