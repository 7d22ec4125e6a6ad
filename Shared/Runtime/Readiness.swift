/// Whether a service can take traffic: its database answers and its migrations are applied.
public enum Readiness: Sendable, Equatable {
    case ready
    case notReady(String)
}
