import HTTPTypes
import NIOCore

/// The three wire protocols one handler table serves, as connect-go does: a department's
/// client may speak Connect, gRPC (HTTP/2) or gRPC-Web (HTTP/1.1 or 2) and reach the same
/// handlers. Only the framing differs; messages, codecs and errors are the same.
enum RPCProtocol: Sendable {
    /// Connect unary: the body is the message; errors are JSON bodies with HTTP statuses.
    case connect
    /// gRPC: one length-prefixed message each way; the status travels in HTTP/2 trailers.
    case grpc
    /// gRPC-Web: gRPC's framing, with the trailers as a last frame of the body.
    case grpcWeb

    /// The protocol and codec a request's `Content-Type` names, or `nil` for anything else.
    static func of(contentType: String) -> (RPCProtocol, ConnectCodec)? {
        // What nearly every call sends is already bare and lower-case: only the rest is taken
        // apart (parameters such as charset, case).
        // Byte by byte: `contains(";")` on a String goes through Foundation's locale-aware
        // search, visible in every service's profile.
        let plain = !contentType.utf8.contains { $0 == UInt8(ascii: ";") || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
        let mediaType = plain ? contentType : contentType.split(separator: ";", maxSplits: 1).first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch mediaType {
        case "application/json": return (.connect, .json)
        case "application/proto", "application/protobuf", "application/x-protobuf": return (.connect, .proto)
        case "application/grpc", "application/grpc+proto": return (.grpc, .proto)
        case "application/grpc+json": return (.grpc, .json)
        case "application/grpc-web", "application/grpc-web+proto": return (.grpcWeb, .proto)
        case "application/grpc-web+json": return (.grpcWeb, .json)
        default: return nil
        }
    }

    /// The `Content-Type` of the response.
    func contentType(_ codec: ConnectCodec) -> String {
        switch (self, codec) {
        case (.connect, _): codec.rawValue
        case (.grpc, .proto): "application/grpc+proto"
        case (.grpc, .json): "application/grpc+json"
        case (.grpcWeb, .proto): "application/grpc-web+proto"
        case (.grpcWeb, .json): "application/grpc-web+json"
        }
    }

    /// The header naming the request body's compression.
    var encodingHeader: HTTPField.Name { self == .connect ? .contentEncoding : .grpcEncoding }
    /// The header listing the compressions the client accepts in the response.
    var acceptEncodingHeader: HTTPField.Name { self == .connect ? .acceptEncoding : .grpcAcceptEncoding }
}

/// gRPC's length-prefixed message: a flag byte (bit 0: compressed, bit 7: trailers), a
/// four-byte big-endian length, then the bytes.
enum GRPCFrame {
    static let compressed: UInt8 = 0x01
    static let trailers: UInt8 = 0x80

    /// The one message of a unary request body.
    static func message(in body: [UInt8]) throws -> (bytes: [UInt8], compressed: Bool) {
        guard body.count >= 5 else {
            throw ConnectError(.invalidArgument, "the gRPC body is not a length-prefixed message (it has \(body.count) bytes)")
        }
        let length = body[1...4].reduce(0) { $0 << 8 | Int($1) }
        guard body.count == 5 + length else {
            throw ConnectError(.invalidArgument, "the gRPC message says \(length) bytes but \(body.count - 5) follow; a unary call sends exactly one")
        }
        guard body[0] & ~compressed == 0 else {
            throw ConnectError(.invalidArgument, "the gRPC message flags \(body[0]) are not a request message's")
        }
        return (Array(body[5...]), body[0] & compressed != 0)
    }

    static func frame(_ bytes: [UInt8], flags: UInt8 = 0) -> [UInt8] {
        let length = UInt32(bytes.count)
        return [flags, UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + bytes
    }

    /// The status as gRPC trailers.
    static func status(_ error: ConnectError?) -> HTTPFields {
        var fields = HTTPFields()
        fields[.grpcStatus] = String(error?.code.grpcStatus ?? 0)
        if let error, !error.message.isEmpty { fields[.grpcMessage] = percentEncoded(error.message) }
        return fields
    }

    /// gRPC-Web's trailer frame: the trailers as HTTP/1 header lines, flagged 0x80.
    static func trailerFrame(_ trailers: HTTPFields) -> [UInt8] {
        let text = trailers.map { "\($0.name.canonicalName): \($0.value)\r\n" }.joined()
        return frame(Array(text.utf8), flags: GRPCFrame.trailers)
    }

    /// `grpc-message` is percent-encoded UTF-8: every byte outside printable ASCII, and `%`.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if byte >= 0x20, byte <= 0x7e, byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// `grpc-timeout`: at most eight digits and a unit (H, M, S, m, u, n).
    static func timeout(_ value: String) throws -> Duration {
        guard let unit = value.last, (2...9).contains(value.count),
              let amount = Int64(value.dropLast()), value.dropLast().allSatisfy(\.isASCIIDigit)
        else { throw ConnectError(.invalidArgument, "grpc-timeout must be 1 to 8 digits and a unit, got \"\(value)\"") }
        switch unit {
        case "H": return .seconds(amount * 3600)
        case "M": return .seconds(amount * 60)
        case "S": return .seconds(amount)
        case "m": return .milliseconds(amount)
        case "u": return .microseconds(amount)
        case "n": return .nanoseconds(amount)
        default: throw ConnectError(.invalidArgument, "grpc-timeout unit must be one of H M S m u n, got \"\(unit)\"")
        }
    }
}

extension ConnectCode {
    /// The gRPC status number of the same name.
    var grpcStatus: Int {
        switch self {
        case .canceled: 1
        case .unknown: 2
        case .invalidArgument: 3
        case .deadlineExceeded: 4
        case .notFound: 5
        case .alreadyExists: 6
        case .permissionDenied: 7
        case .resourceExhausted: 8
        case .failedPrecondition: 9
        case .aborted: 10
        case .outOfRange: 11
        case .unimplemented: 12
        case .internal: 13
        case .unavailable: 14
        case .dataLoss: 15
        case .unauthenticated: 16
        }
    }
}

extension HTTPField.Name {
    static let grpcEncoding = constant("grpc-encoding")
    static let grpcAcceptEncoding = constant("grpc-accept-encoding")
    static let grpcTimeout = constant("grpc-timeout")
    static let grpcStatus = constant("grpc-status")
    static let grpcMessage = constant("grpc-message")
}
