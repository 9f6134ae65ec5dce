import Foundation
import Synchronization

/// Slows password guessing: after ``maxFailures`` failed sign-ins for one account within ``window``,
/// further attempts for it are refused (`too_many_attempts`) until the oldest failure leaves the window.
/// Every way in counts toward the same limit: the REST login, Subsonic passwords and tokens, API keys.
///
/// Kept in this process's memory: several API instances each apply the limit, so the effective limit is
/// per instance. That still turns an online guessing attack from unbounded into a few dozen tries per
/// quarter hour per instance; the secrets it protects (bcrypt passwords, 160-bit app passwords) do the rest.
public final class LoginThrottle: Sendable {
    public let maxFailures: Int
    public let window: TimeInterval
    private let now: @Sendable () -> Date
    private let failures = Mutex<[String: [Date]]>([:])

    public init(maxFailures: Int = 10, window: Duration = .seconds(900), now: @escaping @Sendable () -> Date = { Date() }) {
        self.maxFailures = maxFailures
        self.window = window.timeInterval
        self.now = now
    }

    /// Throws `too_many_attempts` (with the seconds to wait) while `account` is locked out.
    public func check(_ account: String) throws {
        let key = account.lowercased()
        let time = now()
        let recent = failures.withLock { table in
            let kept = (table[key] ?? []).filter { time.timeIntervalSince($0) < window }
            table[key] = kept.isEmpty ? nil : kept
            return kept
        }
        guard recent.count >= maxFailures, let oldest = recent.first else { return }
        let wait = max(1, Int((window - time.timeIntervalSince(oldest)).rounded(.up)))
        throw EncoreError(.tooManyAttempts, "Too many failed sign-ins for this account; try again in \(wait) s.", retryAfter: wait)
    }

    public func recordFailure(_ account: String) {
        let key = account.lowercased()
        let time = now()
        failures.withLock { table in
            var list = (table[key] ?? []).filter { time.timeIntervalSince($0) < window }
            list.append(time)
            table[key] = Array(list.suffix(maxFailures))
            // Bounded memory under a spray of made-up accounts: forget everything rather than grow without end.
            if table.count > 100_000 { table.removeAll() }
        }
    }

    public func recordSuccess(_ account: String) {
        let key = account.lowercased()
        _ = failures.withLock { $0.removeValue(forKey: key) }
    }
}
