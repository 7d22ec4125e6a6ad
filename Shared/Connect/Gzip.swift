import CZlib
import Foundation

/// gzip for request and response bodies, the one compression the Connect, gRPC and
/// gRPC-Web protocols all name.
enum Gzip {
    enum Failure: Error, Equatable {
        /// The data is not gzip, or is cut short.
        case corrupt
        /// Decompressed, it would pass the limit: a small body that inflates to gigabytes.
        case tooLarge(limit: Int)
        case noMemory
    }

    static func compress(_ bytes: [UInt8]) throws(Failure) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        let status = bytes.withUnsafeBufferPointer { pingan_gzip($0.baseAddress, $0.count, &output, &length) }
        return try take(status, output, length, limit: .max)
    }

    /// The decompressed bytes, refused once they would pass `limit`.
    static func decompress(_ bytes: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        let status = bytes.withUnsafeBufferPointer { pingan_gunzip($0.baseAddress, $0.count, limit, &output, &length) }
        return try take(status, output, length, limit: limit)
    }

    private static func take(_ status: Int32, _ output: UnsafeMutablePointer<UInt8>?, _ length: Int, limit: Int) throws(Failure) -> [UInt8] {
        switch Int(status) {
        case Int(PINGAN_GZIP_OK):
            guard let output else { return [] }
            defer { free(output) }
            return Array(UnsafeBufferPointer(start: output, count: length))
        case Int(PINGAN_GZIP_TOO_LARGE): throw .tooLarge(limit: limit)
        case Int(PINGAN_GZIP_NO_MEMORY): throw .noMemory
        default: throw .corrupt
        }
    }
}
