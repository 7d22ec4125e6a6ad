import Foundation
import SwiftProtobuf

/// The two message encodings of the Connect protocol.
public enum ConnectCodec: String, Sendable, CaseIterable {
    /// proto3's canonical JSON mapping.
    case json = "application/json"
    /// Binary protobuf, as `buf curl` and most generated clients send it.
    case proto = "application/proto"

    /// Decodes a request or response body; an empty body is the empty message.
    public func decode<M: SwiftProtobuf.Message>(_: M.Type, from bytes: [UInt8]) throws -> M {
        switch self {
        case .json:
            if bytes.isEmpty { return M() }
            var options = JSONDecodingOptions()
            options.ignoreUnknownFields = true
            return try M(jsonUTF8Bytes: bytes, options: options)
        case .proto:
            return try M(serializedBytes: bytes)
        }
    }

    public func encode(_ message: some SwiftProtobuf.Message) throws -> [UInt8] {
        switch self {
        case .json:
            var options = JSONEncodingOptions()
            options.alwaysPrintEnumsAsInts = false
            return try message.jsonUTF8Bytes(options: options)
        case .proto:
            return try message.serializedBytes()
        }
    }
}

extension ConnectError {
    /// A request body that does not decode. For JSON it names the top-level field at fault,
    /// found by decoding the fields one at a time.
    public static func undecodable<M: SwiftProtobuf.Message>(
        _ error: any Error, codec: ConnectCodec, body: [UInt8], as _: M.Type
    ) -> ConnectError {
        let reason = describe(error)
        if codec == .json, let field = offendingField(of: M.self, in: body) {
            return .invalidArgument(field: field, reason)
        }
        return ConnectError(
            .invalidArgument,
            "request body is not a valid \(codec == .json ? "JSON" : "protobuf") \(M.protoMessageName): \(reason)"
        )
    }

    private static func offendingField<M: SwiftProtobuf.Message>(of _: M.Type, in body: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        for key in object.keys.sorted() {
            guard let value = object[key],
                  let single = try? JSONSerialization.data(withJSONObject: [key: value], options: [.fragmentsAllowed])
            else { continue }
            if (try? M(jsonUTF8Data: single, options: options)) == nil { return key }
        }
        return nil
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case JSONDecodingError.unrecognizedEnumValue: "unknown enum value"
        case JSONDecodingError.malformedNumber: "expected a number"
        case JSONDecodingError.numberRange: "number out of range"
        case JSONDecodingError.malformedBool: "expected true or false"
        case JSONDecodingError.malformedString: "expected a string"
        case JSONDecodingError.invalidUTF8: "invalid UTF-8"
        case JSONDecodingError.truncated: "JSON is truncated"
        case JSONDecodingError.trailingGarbage: "unexpected characters after the JSON value"
        case JSONDecodingError.illegalNull: "null is not allowed here"
        case JSONDecodingError.failure: "malformed JSON"
        case let error as JSONDecodingError: "malformed JSON (\(error))"
        case let error as BinaryDecodingError: "malformed protobuf (\(error))"
        default: "\(error)"
        }
    }
}
