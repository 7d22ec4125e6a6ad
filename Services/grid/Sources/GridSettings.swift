import PinganRuntime

/// grid-service's settings: the common ones and its own.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `SCREENING_RETENTION_MONTHS` | `36` | months of daily screening kept before the current one; older months' partitions are detached and dropped (``ScreeningRetention``); `0` keeps every month |
public struct GridSettings: Sendable {
    public var service: ServiceSettings
    public var screeningRetention: ScreeningRetention

    public init(service: ServiceSettings, screeningRetention: ScreeningRetention = .default) {
        self.service = service
        self.screeningRetention = screeningRetention
    }

    /// Reads the table above and ``ServiceSettings``'; a malformed value stops the service naming it.
    public init(_ reader: SettingsReader) throws(ConfigurationError) {
        let months = try reader.integer("SCREENING_RETENTION_MONTHS", in: 0...1200) ?? ScreeningRetention.defaultMonths
        self.init(service: try ServiceSettings(reader, for: .grid), screeningRetention: ScreeningRetention(months: months == 0 ? nil : months))
    }
}
