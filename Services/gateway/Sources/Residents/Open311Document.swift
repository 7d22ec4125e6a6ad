import Foundation
import HTTPTypes
import Hummingbird

/// An Open311 GeoReport v2 answer, written as JSON or as XML from one description: the spec
/// names the XML elements a JSON array's items become (`services` holds `service`s).
indirect enum Open311Value: Sendable {
    case text(String)
    case number(Int)
    case bool(Bool)
    /// A JSON array; in XML, an element per item named `item`.
    case list(item: String, [Open311Value])
    case record([(String, Open311Value)])

    func json() -> String {
        switch self {
        case .text(let text): return Self.quoted(text)
        case .number(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .list(_, let items): return "[" + items.map { $0.json() }.joined(separator: ",") + "]"
        case .record(let fields): return "{" + fields.map { Self.quoted($0.0) + ":" + $0.1.json() }.joined(separator: ",") + "}"
        }
    }

    func xml(_ name: String) -> String {
        switch self {
        case .text(let text): return "<\(name)>\(Self.escaped(text))</\(name)>"
        case .number(let number): return "<\(name)>\(number)</\(name)>"
        case .bool(let flag): return "<\(name)>\(flag)</\(name)>"
        case .list(let item, let items): return "<\(name)>" + items.map { $0.xml(item) }.joined() + "</\(name)>"
        case .record(let fields): return "<\(name)>" + fields.map { $0.1.xml($0.0) }.joined() + "</\(name)>"
        }
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: if scalar.value >= 0x20 || scalar == "\n" || scalar == "\t" { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}

/// The two formats the door speaks, chosen by the path's extension (`requests.json`).
enum Open311Format: String, Sendable {
    case json
    case xml

    /// Splits `services.json` into its name and format; `nil` for any other extension.
    static func split(_ file: String) -> (name: String, format: Open311Format)? {
        guard let dot = file.lastIndex(of: "."), let format = Open311Format(rawValue: String(file[file.index(after: dot)...]).lowercased()) else {
            return nil
        }
        return (String(file[..<dot]), format)
    }

    /// `value` as a response: the document's root element is `root` in XML.
    func response(_ value: Open311Value, root: String, status: HTTPResponse.Status = .ok) -> Response {
        let body: String
        let type: String
        switch self {
        case .json:
            body = value.json()
            type = "application/json; charset=utf-8"
        case .xml:
            body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>" + value.xml(root)
            type = "text/xml; charset=utf-8"
        }
        return Response(status: status, headers: [.contentType: type, .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The spec's error answer: a list of `{code, description}` with the HTTP status as code.
    func error(_ status: HTTPResponse.Status, _ description: String) -> Response {
        response(.list(item: "error", [.record([("code", .number(status.code)), ("description", .text(description))])]), root: "errors", status: status)
    }
}
