import Foundation
@testable import PinganConnect
import PinganContracts
import PinganTestSupport
import SwiftProtobuf
import Testing

/// gzip bodies and the gRPC-Web framing, served by the same handlers as Connect. gRPC over
/// HTTP/2 is exercised by the interop tests with `grpcio` and `buf curl`.
@Suite("gzip and gRPC-Web")
struct ProtocolsTests {
    let transport = CurlTransport()

    @Test func gzipRoundTripsAndABombStopsAtTheLimit() throws {
        let text = Array("常德 平安 ".utf8) + Array(repeating: UInt8(ascii: "x"), count: 5000)
        let packed = try Gzip.compress(text)
        #expect(packed.count < text.count / 10 && packed.prefix(2) == [0x1f, 0x8b])
        #expect(try Gzip.decompress(packed, limit: text.count) == text)
        #expect(throws: Gzip.Failure.tooLarge(limit: text.count - 1)) { try Gzip.decompress(packed, limit: text.count - 1) }
        // 10 MiB of zeros in about 10 KiB: refused at 64 KiB, not inflated.
        let bomb = try Gzip.compress([UInt8](repeating: 0, count: 10 << 20))
        #expect(bomb.count < 20_000)
        #expect(throws: Gzip.Failure.tooLarge(limit: 65_536)) { try Gzip.decompress(bomb, limit: 65_536) }
        #expect(throws: Gzip.Failure.corrupt) { try Gzip.decompress(Array(packed.dropLast(4)), limit: 1 << 20) }
        #expect(throws: Gzip.Failure.corrupt) { try Gzip.decompress(Array("not gzip".utf8), limit: 1 << 20) }
        // Two members are one stream.
        #expect(try Gzip.decompress(try Gzip.compress([1, 2]) + Gzip.compress([3]), limit: 10) == [1, 2, 3])
    }

    @Test func connectTakesGzipBodiesAndAnswersGzipToThoseWhoAccept() async throws {
        try await withTestServer { url, _ in
            let long = String(repeating: "平安", count: 1000)
            let request = try Gzip.compress(Array("\"\(long)\"".utf8))
            let plain = try await rawPost(transport, url + TestMethods.echo.path, contentType: "application/json", body: request,
                                          headers: [("Content-Encoding", "gzip")])
            #expect(plain.status == 200 && String(decoding: plain.body, as: UTF8.self) == "\"\(long)\"")
            let packed = try await rawPost(transport, url + TestMethods.echo.path, contentType: "application/json", body: request,
                                           headers: [("Content-Encoding", "gzip"), ("Accept-Encoding", "gzip")])
            #expect(packed.status == 200 && packed.body.prefix(2) == [0x1f, 0x8b])
            #expect(try Gzip.decompress(packed.body, limit: 1 << 20) == Array("\"\(long)\"".utf8))
            // Small answers are not worth compressing.
            let small = try await rawPost(transport, url + TestMethods.echo.path, contentType: "application/json",
                                          body: Array("\"短\"".utf8), headers: [("Accept-Encoding", "gzip")])
            #expect(String(decoding: small.body, as: UTF8.self) == "\"短\"")

            let bomb = try Gzip.compress([UInt8](repeating: UInt8(ascii: " "), count: 4 << 20))
            let refused = try await rawPost(transport, url + TestMethods.echo.path, contentType: "application/json", body: bomb,
                                            headers: [("Content-Encoding", "gzip")])
            #expect(ConnectError(httpStatus: refused.status, body: refused.body).code == .resourceExhausted)
            let corrupt = try await rawPost(transport, url + TestMethods.echo.path, contentType: "application/json",
                                            body: Array("\"x\"".utf8), headers: [("Content-Encoding", "gzip")])
            #expect(ConnectError(httpStatus: corrupt.status, body: corrupt.body) == ConnectError(.invalidArgument, "the body is not valid gzip"))
            let brotli = try await rawPost(transport, url + TestMethods.echo.path, contentType: "application/json",
                                           body: Array("\"x\"".utf8), headers: [("Content-Encoding", "br")])
            #expect(ConnectError(httpStatus: brotli.status, body: brotli.body).code == .unimplemented)
        }
    }

    @Test func grpcWebFramesTheMessageAndEndsWithTheStatus() async throws {
        try await withTestServer { url, _ in
            let message = try StringValue("网格员 report").serializedBytes() as [UInt8]
            let ok = try await rawPost(transport, url + TestMethods.echo.path, contentType: "application/grpc-web+proto",
                                       body: GRPCFrame.frame(message))
            #expect(ok.status == 200)
            let frames = Self.frames(ok.body)
            #expect(frames.count == 2)
            #expect(frames.first?.flags == 0)
            #expect(try StringValue(serializedBytes: frames[0].bytes).value == "网格员 report")
            #expect(frames.last?.flags == 0x80 && String(decoding: frames[1].bytes, as: UTF8.self) == "grpc-status: 0\r\n")

            // Compressed per grpc-encoding, and an error as the trailer frame alone.
            let failing = try GRPCFrame.frame(Gzip.compress(try StringValue("not_found").serializedBytes()), flags: GRPCFrame.compressed)
            let failed = try await rawPost(transport, url + TestMethods.fail.path, contentType: "application/grpc-web",
                                           body: failing, headers: [("grpc-encoding", "gzip")])
            let trailer = Self.frames(failed.body)
            #expect(failed.status == 200 && trailer.count == 1 && trailer[0].flags == 0x80)
            #expect(String(decoding: trailer[0].bytes, as: UTF8.self) == "grpc-status: 5\r\ngrpc-message: failed with not_found as asked\r\n")

            // A body that is not one framed message is refused, as is a deadline in a bad unit.
            let unframed = try await rawPost(transport, url + TestMethods.echo.path, contentType: "application/grpc-web+proto", body: message)
            let unframedStatus = String(decoding: Self.frames(unframed.body).first?.bytes ?? [], as: UTF8.self)
            #expect(unframedStatus.hasPrefix("grpc-status: 3\r\n"))
            let badTimeout = try await rawPost(transport, url + TestMethods.echo.path, contentType: "application/grpc-web+proto",
                                               body: GRPCFrame.frame(message), headers: [("grpc-timeout", "10x")])
            let timeoutStatus = String(decoding: Self.frames(badTimeout.body).first?.bytes ?? [], as: UTF8.self)
            #expect(timeoutStatus.contains("grpc-timeout unit"))
        }
    }

    @Test func grpcMessagesArePercentEncodedAndTimeoutsParsed() throws {
        #expect(GRPCFrame.percentEncoded("name: 100% 常") == "name: 100%25 %E5%B8%B8")
        #expect(try GRPCFrame.timeout("250m") == .milliseconds(250))
        #expect(try GRPCFrame.timeout("2S") == .seconds(2))
        #expect(throws: ConnectError.self) { try GRPCFrame.timeout("123456789S") }
        #expect(throws: ConnectError.self) { try GRPCFrame.message(in: [0, 0, 0, 0, 9, 1]) }
    }

    static func frames(_ body: [UInt8]) -> [(flags: UInt8, bytes: [UInt8])] {
        var frames: [(flags: UInt8, bytes: [UInt8])] = []
        var index = 0
        while index + 5 <= body.count {
            let length = body[(index + 1)...(index + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard index + 5 + length <= body.count else { break }
            frames.append((body[index], Array(body[(index + 5)..<(index + 5 + length)])))
            index += 5 + length
        }
        return frames
    }
}
