import Configuration
import Foundation

/// Typed, validated reads of a service's settings from a swift-configuration reader.
///
/// Keys are written as their environment variables are named (`DB_POOL_SIZE`), because
/// that is how operators set them in every deployment (shell, compose, Kubernetes). Each
/// value is read as text and checked here, so a malformed one stops the service with a
/// message naming it instead of silently falling back to the default.
public struct SettingsReader: Sendable {
    let reader: ConfigReader

    public init(_ reader: ConfigReader) {
        self.reader = reader
    }

    /// Settings from the process environment.
    public static var environment: SettingsReader {
        SettingsReader(ConfigReader(provider: EnvironmentVariablesProvider()))
    }

    /// Settings from a fixed set of variables, for tests and command-line tools.
    public init(_ variables: [String: String]) {
        self.init(ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: variables)))
    }

    /// The value of `variable`, or `nil` when it is unset or empty.
    public func string(_ variable: String, isSecret: Bool = false) -> String? {
        reader.string(forKey: Self.key(variable), isSecret: isSecret).flatMap { $0.isEmpty ? nil : $0 }
    }

    public func integer(_ variable: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let text = string(variable) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(variable: variable, problem: "\"\(text)\" is not an integer in \(range)")
        }
        return value
    }

    /// A secret of at least `minimumBytes`, which must be set.
    public func secret(_ variable: String, minimumBytes: Int = 32, purpose: String) throws(ConfigurationError) -> String {
        guard let value = string(variable, isSecret: true), value.utf8.count >= minimumBytes else {
            throw ConfigurationError(variable: variable, problem: "must be set to at least \(minimumBytes) bytes (\(purpose))")
        }
        return value
    }

    /// `DB_POOL_SIZE` is the key `db.pool.size`, which the environment provider maps back.
    static func key(_ variable: String) -> ConfigKey {
        ConfigKey(variable.lowercased().split(separator: "_").map(String.init))
    }
}

/// A bad setting, named so the operator knows what to fix.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let variable: String
    public let problem: String

    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }

    public var description: String { "\(variable): \(problem)" }
}
