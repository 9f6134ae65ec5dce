import EncoreCore
import EncorePostgres
import EncoreTestSupport
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

/// The server the tests use: `ENCORE_TEST_POSTGRES_URL`, which `scripts/with-postgres` sets to a throw-away
/// server it starts (the test command runs the Swift tests through it). Each check gets a schema of its own,
/// dropped when it ends, so checks run in parallel without seeing each other.
enum TestServer {
    static func location() throws -> PostgresLocation {
        guard let url = ProcessInfo.processInfo.environment["ENCORE_TEST_POSTGRES_URL"] else {
            throw MissingServer()
        }
        return try PostgresLocation(url: url)
    }

    struct MissingServer: Error, CustomStringConvertible {
        var description: String {
            "ENCORE_TEST_POSTGRES_URL is not set: run the tests as `scripts/with-postgres swift test` (scripts/test does)"
        }
    }

    static func freshSchema() -> String { "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }

    /// A store on a fresh schema; `body` gets it and the schema's location (to open a second store on it).
    static func withStore<T>(_ body: (PostgresDataStore, PostgresLocation) async throws -> T) async throws -> T {
        let location = try location().inSchema(freshSchema())
        let store = try await PostgresDataStore.open(primary: location)
        do {
            let result = try await body(store, location)
            store.close()
            try await drop(location)
            return result
        } catch {
            store.close()
            try? await drop(location)
            throw error
        }
    }

    /// A connection of the test's own to the server at `location` (the store's are not reachable from here).
    static func connect(_ location: PostgresLocation) async throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password, database: location.database,
            tls: .disable)
        configuration.options.connectTimeout = .seconds(5)
        return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: Logger(label: "test"))
    }

    static func drop(_ location: PostgresLocation) async throws {
        guard let schema = location.schema else { return }
        let connection = try await connect(location)
        defer { Task { try? await connection.close() } }
        try await connection.query("DROP SCHEMA IF EXISTS \(unescaped: schema) CASCADE", logger: Logger(label: "test"))
    }
}

@Suite("PostgresDataStore passes the DataStore, JobQueue and search contracts", .timeLimit(.minutes(5)))
struct PostgresDataStoreTests {
    @Test("contract", arguments: DataStoreContract.checks.map(\.0))
    func contract(name: String) async throws {
        try await TestServer.withStore { store, _ in try await DataStoreContract.run(name, on: store) }
    }

    @Test("the read cache in front of PostgreSQL passes the same contract", arguments: DataStoreContract.checks.map(\.0))
    func cachedContract(name: String) async throws {
        try await TestServer.withStore { store, _ in
            try await DataStoreContract.run(name, on: CachedDataStore(store, cache: ReadCache(maxAge: .seconds(3600))))
        }
    }

    @Test("job queue contract", arguments: JobQueueContract.checks.map(\.0))
    func jobQueue(name: String) async throws {
        let check = try #require(JobQueueContract.checks.first { $0.0 == name }?.1)
        try await TestServer.withStore { store, _ in try await check(store.jobs) }
    }

    @Test("search contract", arguments: SearchContract.checks.map(\.0))
    func search(name: String) async throws {
        let location = try TestServer.location().inSchema(TestServer.freshSchema())
        try await SearchContract.run(name) {
            let store = try await PostgresDataStore.open(primary: location)
            return SearchContract.Backend(
                store: store, search: store.search,
                close: {
                    store.close()
                    // Dropped by a task of its own: `close` is synchronous.
                    Task { try? await TestServer.drop(location) }
                }
            ) {
                let other = try await PostgresDataStore.open(primary: location)  // another instance of the deployment
                return (other.search, { other.close() })
            }
        }
    }

    @Test("migrations run once: a second store on the same schema finds nothing to do, concurrent starts take turns")
    func migrations() async throws {
        let location = try TestServer.location().inSchema(TestServer.freshSchema())
        defer { Task { try? await TestServer.drop(location) } }
        let stores = try await withThrowingTaskGroup(of: PostgresDataStore.self) { group in
            for _ in 0..<3 { group.addTask { try await PostgresDataStore.open(primary: location) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        defer { stores.forEach { $0.close() } }
        #expect(try await PostgresDataStore.migrate(location).isEmpty)
        let (user, _, _) = try await DataStoreContract.seed(stores[0])
        #expect(try await stores[2].accounts.user(id: user.id) == user)
    }

    @Test("an instance's read cache forgets what another instance changed when the database announces it, not after a timer")
    func crossInstanceInvalidation() async throws {
        try await TestServer.withStore { store, location in
            let other = try await PostgresDataStore.open(primary: location, migrate: false)
            defer { other.close() }
            // An hour's max age: only the notification can make the cache forget.
            let cached = CachedDataStore(store, cache: ReadCache(maxAge: .seconds(3600)))
            let subscription = store.invalidating(cached.cache)
            defer { subscription.cancel() }
            let (user, _, album) = try await DataStoreContract.seed(cached)
            let track = try await cached.tracks.insertTrack(DataStoreContract.track(album: album, title: "Before"))
            #expect(try await cached.tracks.track(id: track.id)?.title == "Before")
            #expect(try await cached.accounts.user(id: user.id)?.displayName == user.displayName)

            _ = try await other.tracks.updateTrack(id: track.id) { $0.title = "After" }
            _ = try await other.accounts.updateUser(id: user.id, newPasswordHash: nil) { $0.displayName = "Renamed elsewhere" }
            try await eventually { try await cached.tracks.track(id: track.id)?.title == "After" }
            try await eventually { try await cached.accounts.user(id: user.id)?.displayName == "Renamed elsewhere" }
            _ = try await other.accounts.deleteUser(id: user.id)
            try await eventually { try await cached.tracks.track(id: track.id) == nil }
        }
    }

    @Test("an idle worker wakes when another instance queues a job, without polling")
    func jobWakeups() async throws {
        try await TestServer.withStore { store, location in
            let other = try await PostgresDataStore.open(primary: location, migrate: false)
            defer { other.close() }
            #expect(try await store.jobs.lease(owner: "w", duration: .seconds(10), now: Date()) == nil)
            // Queued while the worker is between its empty lease and its wait: kept for the wait.
            _ = try await other.jobs.enqueue(JobRequest(kind: "k", payload: "1"))
            #expect(await store.jobWakeups.wait(timeout: .seconds(60)), "woken by the queue's notification, not by the timeout")
            #expect(try await store.jobs.lease(owner: "w", duration: .seconds(10), now: Date())?.payload == "1")

            let waiter = Task { await store.jobWakeups.wait(timeout: .seconds(60)) }
            try await Task.sleep(for: .milliseconds(50))
            _ = try await other.jobs.enqueue(JobRequest(kind: "k", payload: "2"))
            #expect(await waiter.value, "woken by the queue's notification, not by the timeout")
            // Nothing queued since: a wait now runs into its (short) timeout.
            #expect(await store.jobWakeups.wait(timeout: .milliseconds(200)) == false)
        }
    }

    @Test("a server that is down is storage_unavailable, quickly, not a hang")
    func serverDown() async throws {
        // A port nothing listens on: the store cannot open.
        var location = try TestServer.location()
        location.port = try unusedPort()
        do {
            let store = try await PostgresDataStore.open(primary: location)
            store.close()
            Issue.record("opened a store on a port nothing listens on")
        } catch let error as EncoreError {
            #expect(error.code == .storageUnavailable)
        }
    }

    @Test("URLs: parts, parameters and errors that do not repeat the password")
    func urls() throws {
        let location = try PostgresLocation(url: "postgres://encore:s%40cret@db.internal:6432/catalog?sslmode=require&schema=tenant_1")
        #expect(location.host == "db.internal")
        #expect(location.port == 6432)
        #expect(location.username == "encore")
        #expect(location.password == "s@cret")
        #expect(location.database == "catalog")
        #expect(location.tls == .require)
        #expect(location.schema == "tenant_1")
        #expect(!location.description.contains("cret"))
        for bad in [
            "mysql://u@h/d", "postgres://h/d", "postgres://u@h/", "postgres://u:secretpw@h/d?sslmode=maybe", "postgres://u@h/d?schema=Bad-Name",
        ] {
            #expect(throws: InvalidPostgresURL.self) { try PostgresLocation(url: bad) }
            do { _ = try PostgresLocation(url: bad) } catch { #expect(!"\(error)".contains("secretpw")) }
        }
    }
}

/// Polls `condition` until it holds, failing after a deadline (notifications arrive asynchronously).
func eventually(_ what: String = "condition", within deadline: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
    let end = ContinuousClock.now + deadline
    while ContinuousClock.now < end {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("\(what) did not hold within \(deadline)")
}

/// A loopback port that nothing listens on (bound, then released).
func unusedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw EncoreError(.internalError, "no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
