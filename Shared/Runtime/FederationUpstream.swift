import Foundation
import PinganConnect

/// Where a county that runs its own mesh sends the city what the city's pages and index need
/// of it: the city's gateway (`FEDERATION_URL`), and the API key the city issued for the
/// county's centre with the `federation` role (`FEDERATION_KEY`). dispute-service sends its
/// cases there and index-service its counts; the city's mesh sets neither.
public struct FederationUpstream: Sendable {
    public var url: String
    public var key: String

    public init(url: String, key: String) {
        self.url = url
        self.key = key
    }

    /// `FEDERATION_URL` and `FEDERATION_KEY`, both or neither; `nil` for neither.
    public static func read(_ reader: SettingsReader) throws(ConfigurationError) -> FederationUpstream? {
        switch (reader.string("FEDERATION_URL"), reader.string("FEDERATION_KEY", isSecret: true)) {
        case (nil, nil):
            return nil
        case let (url?, key?):
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host?.isEmpty == false else {
                throw ConfigurationError(variable: "FEDERATION_URL", problem: "\"\(url)\" is not an http(s) URL of the city's gateway")
            }
            guard !key.isEmpty else { throw ConfigurationError(variable: "FEDERATION_KEY", problem: "is empty") }
            return FederationUpstream(url: url, key: key)
        case (_?, nil):
            throw ConfigurationError(variable: "FEDERATION_KEY", problem: "FEDERATION_URL is set: the county needs the key the city issued for it")
        case (nil, _?):
            throw ConfigurationError(variable: "FEDERATION_URL", problem: "FEDERATION_KEY is set: where is the city's gateway?")
        }
    }

    /// A client of the city's gateway that tries each call once: the senders try again
    /// themselves, at their own pace.
    public func client(transport: CurlTransport) -> ConnectClient {
        var configuration = ConnectClient.Configuration()
        configuration.maxAttempts = 1
        return ConnectClient(baseURL: url, transport: transport, configuration: configuration)
    }
}
