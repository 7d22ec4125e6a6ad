import Mustache

/// A dashboard template: swift-mustache, given the page's model read once.
///
/// swift-mustache finds each `{{name}}` in a struct through `Mirror`, reading every stored
/// property of the struct for every name it looks up, and of each enclosing struct in turn
/// when the name belongs to one of them. On the city's index page (200 actions, each with its
/// form) that was 88% of the gateway's CPU for the page. ``TemplateModel`` reads each struct's
/// properties once, before rendering, into a table the template looks names up in; what the
/// page shows is the same.
struct PageTemplate: Sendable {
    private let template: MustacheTemplate

    init(_ text: String) throws {
        template = try MustacheTemplate(string: text)
    }

    func render(_ model: Any) -> String {
        template.render(TemplateModel.read(model) ?? model)
    }
}

/// A view model as the templates read it, with the lookups swift-mustache would make.
enum TemplateModel {
    /// `value` with every struct in it replaced by a ``TemplateObject`` of its stored
    /// properties, arrays read element by element, and optionals unwrapped (`nil` for none,
    /// so the template looks the name up further out, as it does for a `nil` property). Other
    /// values (strings, numbers, enums, classes, dictionaries, closures, mustache's own types)
    /// are kept as they are.
    static func read(_ value: Any) -> Any? {
        var reader = Reader()
        return reader.read(value)
    }

    /// What a type is to a template.
    private enum Shape {
        case kept, optional, sequence, object
    }

    /// Reads one model, deciding each type's ``Shape`` once: the checks behind it are
    /// dynamic casts, which cost more than the reading itself when made for every value.
    private struct Reader {
        var shapes: [ObjectIdentifier: Shape] = [:]

        mutating func read(_ value: Any) -> Any? {
            let type = ObjectIdentifier(Swift.type(of: value))
            let shape: Shape
            if let known = shapes[type] {
                shape = known
            } else {
                shape = Self.shape(of: value)
                shapes[type] = shape
            }
            switch shape {
            case .kept:
                return value
            case .optional:
                return Mirror(reflecting: value).children.first.flatMap { read($0.value) }
            case .sequence:
                return Mirror(reflecting: value).children.map { read($0.value) ?? $0.value }
            case .object:
                let children = Mirror(reflecting: value).children
                var properties: [String: Any] = [:]
                properties.reserveCapacity(Int(children.count))
                for child in children {
                    guard let label = child.label, let read = read(child.value) else { continue }
                    properties[label] = read
                }
                return TemplateObject(value: value, properties: properties)
            }
        }

        private static func shape(of value: Any) -> Shape {
            if value is String || value is Bool || value is Int || value is Double { return .kept }
            switch Mirror(reflecting: value).displayStyle {
            case .optional:
                return .optional
            case .collection, .set:
                return .sequence
            case .struct, .tuple:
                let rendersItself = value is MustacheTemplate || value is MustacheLambda || value is any MustacheParent
                    || value is any MustacheCustomRenderable || value is any MustacheCustomRepresentation || value is any MustacheTransformable
                return rendersItself ? .kept : .object
            default:
                return .kept
            }
        }
    }
}

/// A struct's stored properties, read once (``TemplateModel``). Rendered as a whole
/// (`{{.}}`, or a property that is itself a struct) it reads as the struct would.
struct TemplateObject: MustacheParent, CustomStringConvertible {
    let value: Any
    let properties: [String: Any]

    func child(named name: String) -> Any? { properties[name] }

    var description: String { String(describing: value) }
}
