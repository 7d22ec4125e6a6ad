import Logging

/// Writes the lines swift-log's `StreamLogHandler` writes, to standard error, but leaves the
/// metadata as it was given until a line is written.
///
/// `StreamLogHandler` formats all its metadata again whenever a key is set, and Hummingbird
/// sets a request id on every request. At the `warning` level the services run at, that was
/// formatting for lines that are never written, on every call.
public struct ServiceLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    public init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // The logger checked the level before calling; only the metadata needs handing over.
        var line = StreamLogHandler.standardError(label: label, metadataProvider: metadataProvider)
        line.metadata = metadata
        line.log(event: event)
    }

    /// Sends every logger of the process through this handler: the first thing a service's
    /// `main` does, before any logger exists.
    public static func bootstrap() {
        LoggingSystem.bootstrap { ServiceLogHandler(label: $0) }
    }
}
