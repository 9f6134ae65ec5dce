import CoreMetrics
import EncoreCore
import Foundation
import Synchronization

/// A position in PostgreSQL's write-ahead log (`16/B374D848`), comparable.
struct WALPosition: Comparable, Sendable {
    let value: UInt64

    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16), high <= UInt32.max,
            low <= UInt32.max
        else { return nil }
        value = high << 32 | low
    }

    static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
}

/// Which connection a read goes to when replicas take reads.
///
/// - A read with no position to honour goes to the next healthy replica (round robin).
/// - A read that must see a write (the client presented its `Encore-Read-After` position, or its user
///   wrote recently through any instance, as the instances announce) goes to a replica only if that
///   replica has replayed the write; otherwise to the primary. So a client always sees its own writes,
///   and everybody else sees them once the replica has them (the replica's lag).
/// - A replica that fails is skipped for ``downFor``; its reads go to the others or the primary.
final class ReadRouting: Sendable {
    /// How long a failed replica is left alone (then one read tries it again, waiting at most
    /// ``PostgresDatabase/replicaConnectionDeadline`` before going to the primary).
    static let downFor: Duration = .seconds(15)
    /// How long a user's last write is remembered: far longer than any healthy replica's lag.
    static let rememberWritesFor: TimeInterval = 300

    private struct State {
        var next = 0
        var downUntil: [ContinuousClock.Instant?]
        var writes: [UUID: (position: WALPosition, at: Date)] = [:]
    }

    private let state: Mutex<State>
    private let replicaReads: Counter
    private let primaryReads: Counter
    private let behindReads: Counter

    init(replicaCount: Int, metrics: any MetricsFactory) {
        state = Mutex(State(downUntil: Array(repeating: nil, count: replicaCount)))
        replicaReads = Counter(label: "encore_database_reads_total", dimensions: [("served_by", "replica")], factory: metrics)
        primaryReads = Counter(label: "encore_database_reads_total", dimensions: [("served_by", "primary")], factory: metrics)
        behindReads = Counter(label: "encore_database_replica_behind_total", factory: metrics)
    }

    /// The replicas to try, in order: the healthy ones, starting with the next in turn.
    func replicaOrder() -> [Int] {
        let now = ContinuousClock.now
        return state.withLock { state in
            let count = state.downUntil.count
            guard count > 0 else { return [] }
            let start = state.next
            state.next = (state.next + 1) % count
            return (0..<count).map { (start + $0) % count }.filter { state.downUntil[$0].map { $0 <= now } ?? true }
        }
    }

    /// The position a read in `scope` must see, if any.
    func requiredPosition(for scope: ReadScope?) -> WALPosition? {
        guard let scope else { return nil }
        let presented = scope.presentedPosition.flatMap(WALPosition.init)
        let known: WALPosition? = scope.subject.flatMap { subject in
            state.withLock { state in
                guard let write = state.writes[subject], Date().timeIntervalSince(write.at) < Self.rememberWritesFor else { return nil }
                return write.position
            }
        }
        return [presented, known].compactMap { $0 }.max()
    }

    /// A write by `subject` reached `position` (this instance's own, or announced by another).
    func wrote(_ subject: UUID, at position: WALPosition) {
        let now = Date()
        state.withLock { state in
            if let known = state.writes[subject], known.position >= position { return }
            state.writes[subject] = (position, now)
            if state.writes.count > 100_000 {
                state.writes = state.writes.filter { now.timeIntervalSince($0.value.at) < Self.rememberWritesFor }
            }
        }
    }

    /// An announcement from the writes channel: `{user id} {position}`.
    func heard(_ payload: String) {
        let parts = payload.split(separator: " ")
        guard parts.count == 2, let subject = UUID(uuidString: String(parts[0])), let position = WALPosition(String(parts[1])) else { return }
        wrote(subject, at: position)
    }

    func failed(replica index: Int) {
        let until = ContinuousClock.now + Self.downFor
        state.withLock { $0.downUntil[index] = until }
    }

    func served(byReplica: Bool) {
        (byReplica ? replicaReads : primaryReads).increment()
    }

    func behind() { behindReads.increment() }
}
