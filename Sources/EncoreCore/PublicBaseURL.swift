import Synchronization

/// The base of every URL Encore hands out (`http://host:port`). Unless configured, it is learnt when the
/// server starts listening, since the port may be chosen by the system.
public final class PublicBaseURL: Sendable {
    private let state: Mutex<String>
    private let configured: Bool

    public init(configured: String?) {
        self.configured = configured != nil
        state = Mutex(configured.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "http://127.0.0.1")
    }

    public var value: String { state.withLock { $0 } }

    /// Called once the server listens: fills in the bound address unless a base URL was configured.
    public func listening(host: String, port: Int) {
        guard !configured else { return }
        let reachable = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        state.withLock { $0 = "http://\(reachable.contains(":") ? "[\(reachable)]" : reachable):\(port)" }
    }
}
