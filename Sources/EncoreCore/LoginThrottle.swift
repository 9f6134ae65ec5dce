import Foundation
import Synchronization

/// Slows password guessing: after ``maxFailures`` failed sign-ins for one account from one client address
/// within ``window``, further attempts for that pair are refused (`too_many_attempts`) until the oldest
/// failure leaves the window. Every way in counts toward the same limit: the REST login and Subsonic
/// passwords and tokens.
///
/// Choices, and what they cost:
/// - The key is the account (its normalised email, so case and surrounding spaces do not make new keys)
///   and the client's address. Keyed by account alone, anyone could lock a user out with ten requests,
///   and a forgotten phone with a revoked app password would keep its owner locked out for good; keyed
///   this way, each of those locks out only itself. The price: an attacker with many addresses gets ten
///   guesses per address per window, which bcrypt and 160-bit app passwords make worthless.
/// - An attempt is counted when it starts and forgiven when it succeeds, so concurrent guesses cannot
///   slip in between a check and the record of its failure.
/// - Kept in this process's memory (per instance), bounded: expired entries go first, then the oldest.
///   Behind a proxy every client has the proxy's address, and the limit becomes per account again.
public final class LoginThrottle: Sendable {
    public let maxFailures: Int
    public let window: TimeInterval
    /// Keys kept at most; past it, the entries whose last attempt is oldest are dropped.
    public let capacity: Int
    private let now: @Sendable () -> Date
    private let attempts = Mutex<[String: [Date]]>([:])

    public init(maxFailures: Int = 10, window: Duration = .seconds(900), capacity: Int = 100_000, now: @escaping @Sendable () -> Date = { Date() }) {
        self.maxFailures = maxFailures
        self.window = window.timeInterval
        self.capacity = capacity
        self.now = now
    }

    /// One sign-in attempt for `account` from `client`: throws `too_many_attempts` (with the seconds to
    /// wait) when the pair is locked out, else counts the attempt as a failure until ``succeeded(_:client:)``.
    public func attempt(_ account: String, client: String?) throws {
        let key = Self.key(account, client: client)
        let time = now()
        let wait: Int? = attempts.withLock { table in
            let recent = (table[key] ?? []).filter { time.timeIntervalSince($0) < window }
            if recent.count >= maxFailures, let oldest = recent.first {
                table[key] = recent
                return max(1, Int((window - time.timeIntervalSince(oldest)).rounded(.up)))
            }
            table[key] = recent + [time]
            if table.count > capacity { evict(&table, at: time) }
            return nil
        }
        if let wait {
            throw EncoreError(.tooManyAttempts, "Too many failed sign-ins for this account; try again in \(wait) s.", retryAfter: wait)
        }
    }

    /// The attempt succeeded: the pair's failures are forgiven.
    public func succeeded(_ account: String, client: String?) {
        let key = Self.key(account, client: client)
        _ = attempts.withLock { $0.removeValue(forKey: key) }
    }

    /// How many account/client pairs are remembered.
    public var keys: Int { attempts.withLock { $0.count } }

    private func evict(_ table: inout [String: [Date]], at time: Date) {
        table = table.filter { time.timeIntervalSince($0.value.last ?? .distantPast) < window }
        guard table.count > capacity else { return }
        let newest = table.sorted { ($0.value.last ?? .distantPast) > ($1.value.last ?? .distantPast) }.prefix(capacity * 3 / 4)
        table = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
    }

    /// The account as sign-in finds it (trimmed, lower-cased, as ``Validate/email(_:)`` normalises it) and
    /// the client; made-up input of any size costs a bounded key.
    static func key(_ account: String, client: String?) -> String {
        let normalised = (try? Validate.email(account)) ?? String(account.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().prefix(320))
        return normalised + "|" + String((client ?? "").prefix(64))
    }
}
