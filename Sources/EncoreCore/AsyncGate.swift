import Synchronization

/// One holder at a time, across suspension points, served in arrival order: an async mutex for work that
/// awaits while it holds the gate (a database transaction, say).
public final class AsyncGate: Sendable {
    private struct State {
        var busy = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Runs `body` once the gate is free, holding it until `body` returns or throws.
    public func withGate<T>(_ body: () async throws -> T) async throws -> T {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let free = state.withLock { state in
                guard state.busy else {
                    state.busy = true
                    return true
                }
                state.waiters.append(waiter)
                return false
            }
            if free { waiter.resume() }
        }
        defer {
            // The gate passes straight to the next waiter, or becomes free.
            let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard !state.waiters.isEmpty else {
                    state.busy = false
                    return nil
                }
                return state.waiters.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}
