import CoreMetrics
import EncoreCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The catalog on PostgreSQL: a pool of connections to the primary (postgres-nio's `PostgresClient`),
/// optional read replicas that take reads (see ``ReadRouting``), and one listening connection that hears
/// what other instances changed (``PostgresDataStore/changes``) and when jobs were queued.
///
/// The job queue and the search index are tables of the same database, so a job is queued, and the index
/// follows a change, in the transaction of the change.
public struct PostgresDataStore: DataStore, CatalogImportStore {
    let executor: PostgresExecutor
    /// This instance's search index over the database's documents (shared by its transactions).
    let searchEngine: MemorySearchIndex

    /// Connects to `primary` (and `replicas`), and runs the migrations unless told not to. Fails with
    /// `storage_unavailable` when the primary cannot be reached within `connectTimeout`.
    public static func open(
        primary: PostgresLocation, replicas: [PostgresLocation] = [], migrate: Bool = true, maxConnections: Int = 20,
        metrics: any MetricsFactory = NOOPMetricsHandler.instance, logger: Logger = PostgresDataStore.defaultLogger
    ) async throws -> PostgresDataStore {
        let database = PostgresDatabase(primary: primary, replicas: replicas, maxConnections: maxConnections, metrics: metrics, logger: logger)
        do {
            if migrate { _ = try await PostgresSchema.migrate(database) }
            try await database.startListening()
        } catch {
            database.close()
            throw error
        }
        let executor = PostgresExecutor(database: database)
        return PostgresDataStore(executor: executor, searchEngine: MemorySearchIndex(source: PostgresSearchDocuments(executor: executor)))
    }

    init(executor: PostgresExecutor, searchEngine: MemorySearchIndex) {
        self.executor = executor
        self.searchEngine = searchEngine
    }

    /// The pool logs each failed connection attempt at `info`; while a replica is down that is a line per
    /// retry. Warnings and worse are kept.
    public static var defaultLogger: Logger {
        var logger = Logger(label: "encore.postgres")
        logger.logLevel = .warning
        return logger
    }

    public var accounts: any AccountRepository { PostgresAccounts(executor: executor) }
    public var catalog: any CatalogRepository { PostgresCatalog(executor: executor) }
    public var tracks: any TrackRepository { PostgresTracks(executor: executor) }
    public var playlists: any PlaylistRepository { PostgresPlaylists(executor: executor) }
    public var plays: any PlayRepository { PostgresPlays(executor: executor) }
    public var appPasswords: any AppPasswordRepository { PostgresAppPasswords(executor: executor) }
    public var listeners: any ListenerRepository { PostgresListeners(executor: executor) }
    public var browse: any BrowseRepository { PostgresBrowse(executor: executor) }
    public var jobs: any JobQueue { PostgresJobQueue(executor: executor) }
    public var searchIndex: any SearchIndexWriter { PostgresSearchIndexWriter(executor: executor) }
    /// The search engine over the same database: an in-memory index that follows its documents.
    public var search: any CatalogSearch { searchEngine }

    /// Changes to users, artists, albums and tracks committed by anyone (this process included), as
    /// the database announces them: what a read cache must forget. Each call returns a new sequence.
    public var changes: AsyncStream<CatalogChange> { executor.database.changeFeed.subscribe() }

    /// Empties `cache` whenever the database announces a change to a cached entity (by this instance or
    /// any other, a worker included), so that its staleness is bounded by the notification rather than by
    /// its max age. Runs until the returned task is cancelled or the store is closed.
    public func invalidating(_ cache: ReadCache) -> Task<Void, Never> {
        let changes = self.changes
        return Task {
            // Any change empties the whole cache, as the cache's own writes do (see ``CachedDataStore``).
            for await _ in changes { cache.invalidate() }
        }
    }

    /// Runs the migrations not yet applied to the database at `location` and returns their names.
    public static func migrate(_ location: PostgresLocation, logger: Logger = PostgresDataStore.defaultLogger) async throws -> [String] {
        let database = PostgresDatabase(
            primary: location, replicas: [], maxConnections: 1, metrics: NOOPMetricsHandler.instance, logger: logger)
        defer { database.close() }
        return try await PostgresSchema.migrate(database)
    }

    /// Wakes when a job is queued anywhere (``JobWakeups``): idle workers wait on it instead of polling.
    public var jobWakeups: JobWakeups { executor.database.jobWakeups }

    public func ping() async throws {
        _ = try await executor.read { connection in try await connection.rows("SELECT 1") }
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any DataStore) async throws -> T) async throws -> T {
        if executor.transaction != nil { return try await body(self) }  // nested: part of the enclosing transaction
        return try await executor.inTransaction { transaction in
            try await body(
                PostgresDataStore(executor: PostgresExecutor(database: executor.database, transaction: transaction), searchEngine: searchEngine))
        }
    }

    /// Closes every connection.
    public func close() {
        executor.database.close()
    }

    public func beginImport(owner: UUID) -> any CatalogImportSession {
        PostgresImportSession(executor: executor, owner: owner)
    }
}

/// Something another process changed, as the database's triggers announce it.
public enum CatalogChange: Sendable, Equatable {
    /// A user, artist, album or track row was inserted, updated or deleted.
    case entity(UUID)
    /// The listening connection was lost (and re-established): anything may have changed meanwhile.
    case unknown
}

/// The clients of one deployment's database and what listens on it.
final class PostgresDatabase: Sendable {
    let primary: PostgresClient
    let replicas: [PostgresClient]
    let location: PostgresLocation
    let logger: Logger
    let changeFeed = Broadcast<CatalogChange>()
    let jobWakeups = JobWakeups()
    let writeWait: CoreMetrics.Timer
    let routing: ReadRouting
    private let runners: Mutex<[Task<Void, Never>]>

    init(primary: PostgresLocation, replicas: [PostgresLocation], maxConnections: Int, metrics: any MetricsFactory, logger: Logger) {
        self.location = primary
        self.logger = logger
        self.primary = PostgresClient(configuration: primary.clientConfiguration(maxConnections: maxConnections), backgroundLogger: logger)
        self.replicas = replicas.map {
            PostgresClient(configuration: $0.clientConfiguration(maxConnections: maxConnections), backgroundLogger: logger)
        }
        writeWait = CoreMetrics.Timer(label: "encore_database_pool_wait_seconds", factory: metrics)
        routing = ReadRouting(replicaCount: replicas.count, metrics: metrics)
        let clients = [self.primary] + self.replicas
        runners = Mutex(clients.map { client in Task { await client.run() } })
    }

    /// How long a request waits for a connection before it gives up with `storage_unavailable`: the pool
    /// keeps trying to connect to a server that is down, and a request must not wait for it forever.
    static let connectionDeadline: Duration = .seconds(5)
    /// A replica gets less: the primary can serve the read instead.
    static let replicaConnectionDeadline: Duration = .seconds(1)

    /// Runs `body` on a connection of `client`, giving up when none is available within the deadline.
    func withConnection<T: Sendable>(
        _ client: PostgresClient, deadline: Duration = PostgresDatabase.connectionDeadline,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let leased = Flag()
        let waiting = ContinuousClock.now
        return try await PostgresErrors.mapping {
            try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        leased.set()
                        self.writeWait.record(since: waiting)
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: deadline)
                    return nil
                }
                while let result = try await group.next() {
                    if let value = result {
                        group.cancelAll()
                        return value
                    }
                    // The deadline passed: give up only if no connection was ever leased.
                    if !leased.isSet {
                        group.cancelAll()
                        throw EncoreError(.storageUnavailable, "The database cannot be reached; try again.")
                    }
                }
                throw EncoreError(.storageUnavailable, "The database cannot be reached; try again.")
            }
        }
    }

    /// Listens for catalog changes and queued jobs on a connection of its own, reconnecting when it is lost.
    /// Returns once both channels are listened to; throws when the first connection fails.
    func startListening() async throws {
        let started = StartLatch(count: 3)
        let routing = routing
        let channels = PostgresSchema.channels(schema: location.schema)
        let configuration = location.connectionConfiguration()
        let logger = logger
        let feed = changeFeed
        let wakeups = jobWakeups
        let task = Task {
            while !Task.isCancelled {
                do {
                    let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
                    defer { Task { try? await connection.close() } }
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            try await connection.listen(on: channels.changes) { notifications in
                                started.arrive()
                                for try await notification in notifications {
                                    if let id = UUID(uuidString: notification.payload) {
                                        feed.send(.entity(id))
                                    } else {
                                        feed.send(.unknown)  // '*': a bulk import
                                    }
                                }
                            }
                        }
                        group.addTask {
                            try await connection.listen(on: channels.writes) { notifications in
                                started.arrive()
                                for try await notification in notifications { routing.heard(notification.payload) }
                            }
                        }
                        group.addTask {
                            try await connection.listen(on: channels.jobs) { notifications in
                                started.arrive()
                                for try await _ in notifications { wakeups.wake() }
                            }
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                } catch {
                    if Task.isCancelled { break }
                    if started.fail(PostgresErrors.mapped(error)) { return }
                    logger.warning("lost the database's notifications; reconnecting", metadata: ["error": "\(String(reflecting: error))"])
                }
                // Whatever was announced while nobody listened is lost: caches must forget everything.
                feed.send(.unknown)
                wakeups.wake()
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        runners.withLock { $0.append(task) }
        try await started.wait()
    }

    func close() {
        for task in runners.withLock({ $0 }) { task.cancel() }
        changeFeed.finish()
    }
}

/// Where statements run: on the pool (each write call its own transaction), or inside one transaction
/// of ``PostgresDataStore/transaction(_:)``.
struct PostgresExecutor: Sendable {
    let database: PostgresDatabase
    let transaction: OpenTransaction?

    init(database: PostgresDatabase, transaction: OpenTransaction? = nil) {
        self.database = database
        self.transaction = transaction
    }

    /// A read: inside a transaction on its connection; otherwise on a replica when ``ReadRouting`` allows it,
    /// else on the primary.
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        if let transaction { return try await transaction.run(body) }
        // Replicas serve requests only (which carry a scope): background work (a worker reading the track it
        // is about to update) always reads the primary.
        guard !database.replicas.isEmpty, ReadScope.current != nil else { return try await database.withConnection(database.primary, body) }
        let required = database.routing.requiredPosition(for: ReadScope.current)
        for index in database.routing.replicaOrder() {
            do {
                let outcome = try await database.withConnection(database.replicas[index], deadline: PostgresDatabase.replicaConnectionDeadline) {
                    connection -> ReplicaRead<T> in
                    if let required {
                        // One more round trip, only for readers who recently wrote: has this replica replayed it?
                        let row = try await connection.row(
                            "SELECT coalesce(pg_last_wal_replay_lsn(), pg_current_wal_lsn())::text AS position")
                        guard let replayed = try row.flatMap({ WALPosition(try $0.value("position", as: String.self)) }), replayed >= required
                        else { return .behind }
                    }
                    return .value(try await body(connection))
                }
                switch outcome {
                case .value(let value):
                    database.routing.served(byReplica: true)
                    return value
                case .behind:
                    // Another replica is no further along in practice: the primary has it for sure.
                    database.routing.behind()
                    return try await primaryRead(body)
                }
            } catch let error as EncoreError where error.code == .storageUnavailable {
                // A replica that is down (or cancelled the query for replay) is left alone for a while; the read
                // goes on to the next one or the primary. Reads are idempotent, so retrying one is safe.
                database.routing.failed(replica: index)
                database.logger.warning("a read replica failed; reading elsewhere", metadata: ["replica": "\(index)", "error": "\(error.message)"])
            }
        }
        return try await primaryRead(body)
    }

    /// A read that always goes to the primary: accounts and credentials, so that a new account, a changed
    /// password or a revoked app password takes effect at once on every instance, replica lag or not.
    func readPrimary<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        if let transaction { return try await transaction.run(body) }
        return try await database.withConnection(database.primary, body)
    }

    private func primaryRead<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        database.routing.served(byReplica: false)
        return try await database.withConnection(database.primary, body)
    }

    /// A write, atomic on its own: inside a transaction on its connection, otherwise in one of its own.
    func write<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        if let transaction { return try await transaction.run(body) }
        return try await inTransaction { transaction in try await transaction.run(body) }
    }

    /// Runs `body` in a new transaction on a primary connection: committed when it returns, rolled back
    /// when it throws.
    func inTransaction<T: Sendable>(_ body: @escaping @Sendable (OpenTransaction) async throws -> T) async throws -> T {
        try await database.withConnection(database.primary) { connection in
            try await connection.run("BEGIN")
            let open = OpenTransaction(connection: connection)
            do {
                let result = try await body(open)
                open.close()
                try await connection.run("COMMIT")
                if !database.replicas.isEmpty { try await announceWrite(on: connection) }
                return result
            } catch {
                open.close()
                // A broken connection cannot roll back; the server does when it notices.
                try? await connection.run("ROLLBACK")
                throw error
            }
        }
    }
}

extension PostgresExecutor {
    /// After a commit of a request, when replicas take reads: the position the write reached (the WAL
    /// *insert* position: with `synchronous_commit = off` the write position can still be short of the
    /// commit record), recorded in the request's scope (the HTTP layer answers it) and, for a signed-in
    /// user, announced with their id, so that every instance sends their next reads to a replica only once
    /// it has replayed this far. Background work (no scope) has nobody to answer: it costs nothing here.
    func announceWrite(on connection: PostgresConnection) async throws {
        guard let scope = ReadScope.current else { return }
        let row: PostgresRandomAccessRow?
        if let subject = scope.subject {
            let channel = PostgresSchema.channels(schema: database.location.schema).writes
            row = try await connection.row(
                """
                SELECT position::text AS position, pg_notify(\(channel), \(subject.uuidString.lowercased()) || ' ' || position::text)
                FROM pg_current_wal_insert_lsn() AS position
                """)
        } else {
            row = try await connection.row("SELECT pg_current_wal_insert_lsn()::text AS position")
        }
        guard let text = try row?.value("position", as: String.self) else { return }
        scope.recordWrite(at: text)
        if let subject = scope.subject, let position = WALPosition(text) { database.routing.wrote(subject, at: position) }
    }
}

enum ReplicaRead<T: Sendable>: Sendable {
    case value(T)
    case behind
}

/// One transaction's connection: usable from `BEGIN` until `COMMIT` or `ROLLBACK`.
final class OpenTransaction: Sendable {
    let connection: PostgresConnection
    private let isOpen = Mutex(true)

    init(connection: PostgresConnection) {
        self.connection = connection
    }

    func close() { isOpen.withLock { $0 = false } }

    /// `body` on the transaction's connection, refusing once the transaction is over: a transaction's store
    /// that escaped its body would otherwise write outside any transaction, or into another one.
    func run<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        guard isOpen.withLock({ $0 }) else {
            throw EncoreError(.internalError, "The transaction's store was used after the transaction ended.")
        }
        return try await PostgresErrors.mapping { try await body(connection) }
    }
}

/// Fans values out to every current subscriber.
final class Broadcast<Value: Sendable>: Sendable {
    private let subscribers = Mutex<(next: Int, continuations: [Int: AsyncStream<Value>.Continuation], finished: Bool)>((0, [:], false))

    func subscribe() -> AsyncStream<Value> {
        let (stream, continuation) = AsyncStream<Value>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        let id: Int? = subscribers.withLock { state in
            guard !state.finished else { return nil }
            let id = state.next
            state.next += 1
            state.continuations[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in self?.subscribers.withLock { _ = $0.continuations.removeValue(forKey: id) } }
        return stream
    }

    func send(_ value: Value) {
        for continuation in subscribers.withLock({ Array($0.continuations.values) }) { continuation.yield(value) }
    }

    func finish() {
        let all = subscribers.withLock { state in
            state.finished = true
            defer { state.continuations = [:] }
            return Array(state.continuations.values)
        }
        for continuation in all { continuation.finish() }
    }
}

/// Wakes idle workers when a job is queued: the queue's `NOTIFY`, heard by every process.
///
/// A wake-up that finds nobody waiting is kept for the next waiter: a job queued between a worker's
/// empty lease and its wait must not be left for the timeout.
public final class JobWakeups: Sendable {
    private struct State {
        var nextId = 0
        var pending = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var registered: Set<Int> = []
        var expired: Set<Int> = []
    }

    private let state = Mutex(State())

    /// Returns at the next wake-up (or at once, for one that came while nobody waited) or after `timeout`;
    /// true when woken.
    @discardableResult
    public func wait(timeout: Duration) async -> Bool {
        let id = state.withLock { state in
            defer { state.nextId += 1 }
            return state.nextId
        }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let resumeNow = self.state.withLock { state -> Bool in
                        state.registered.insert(id)
                        if state.expired.remove(id) != nil { return true }
                        if state.pending {
                            state.pending = false
                            return true
                        }
                        state.waiters[id] = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let woken = await group.next() ?? false
            group.cancelAll()
            expire(id)
            return woken
        }
    }

    private func expire(_ id: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.registered.remove(id) }
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            if !state.registered.contains(id) { state.expired.insert(id) }
            return nil
        }
        waiter?.resume()
    }

    func wake() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            if state.waiters.isEmpty {
                state.pending = true
                return []
            }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// A flag set once, from any task.
final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

/// Opens once `count` parties have arrived, or fails with the first error before that.
final class StartLatch: Sendable {
    private let state: Mutex<(remaining: Int, outcome: Result<Void, any Error>?, waiter: CheckedContinuation<Void, any Error>?)>

    init(count: Int) {
        state = Mutex((count, nil, nil))
    }

    func arrive() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard state.outcome == nil else { return nil }
            state.remaining -= 1
            guard state.remaining == 0 else { return nil }
            state.outcome = .success(())
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Fails the latch if it has not opened yet; true when it did fail (the error reached the waiter).
    func fail(_ error: any Error) -> Bool {
        let (failed, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, any Error>?) in
            guard state.outcome == nil else { return (false, nil) }
            state.outcome = .failure(error)
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(throwing: error)
        return failed
    }

    func wait() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome = state.withLock { state -> Result<Void, any Error>? in
                if state.outcome == nil { state.waiter = continuation }
                return state.outcome
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }
}
