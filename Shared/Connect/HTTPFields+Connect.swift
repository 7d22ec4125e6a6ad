import HTTPTypes
import Hummingbird
import NIOCore

extension HTTPField.Name {
    static let connectTimeoutMs = constant("Connect-Timeout-Ms")
    static let traceparent = constant("traceparent")
    static let acceptPost = constant("Accept-Post")

    /// A header name written in the source, so known to be valid.
    static func constant(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("invalid header name \(name)") }
        return field
    }
}

extension Response {
    /// A plain-text answer, for the few non-Connect endpoints a server has.
    public static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}
