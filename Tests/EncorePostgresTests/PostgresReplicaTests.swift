import EncoreCore
import EncorePostgres
import EncoreTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// Reads on a real streaming replica (`pg_basebackup -R`, started by `scripts/with-postgres --replicas 1`):
/// a client reads its own writes at once, others see them once the replica has replayed them, and a
/// replica that lags or is gone costs staleness for others, never errors or a user's own writes.
@Suite("PostgreSQL read replicas", .serialized, .timeLimit(.minutes(3)))
struct PostgresReplicaTests {
    static func replica() throws -> PostgresLocation {
        guard let urls = ProcessInfo.processInfo.environment["ENCORE_TEST_POSTGRES_REPLICA_URLS"],
            let first = urls.split(separator: ",").first
        else { throw TestServer.MissingServer() }
        return try PostgresLocation(url: String(first))
    }

    static func position(_ connection: PostgresConnection, _ sql: PostgresQuery) async throws -> String {
        for try await row in try await connection.query(sql, logger: Logger(label: "test")) {
            return try row.decode(String.self)
        }
        throw EncoreError(.internalError, "no position")
    }

    /// Waits until the replica has replayed everything the primary has written so far.
    static func caughtUp(primary: PostgresConnection, replica: PostgresConnection) async throws {
        let target = try await position(primary, "SELECT pg_current_wal_lsn()::text")
        try await eventually("the replica catches up") {
            try await position(replica, "SELECT (pg_last_wal_replay_lsn() >= \(target)::pg_lsn)::text") == "true"
        }
    }

    /// The album's title as a listing shows it (listings go to replicas; reads by id always go to the
    /// primary, for the read cache's sake).
    static func title(_ store: PostgresDataStore, _ album: Album, as subject: UUID?, presenting position: String? = nil) async throws -> String? {
        let scope = ReadScope(presentedPosition: position)
        scope.subject = subject
        return try await ReadScope.$current.withValue(scope) {
            try await store.catalog.albums(artistId: album.artistId, page: try PageRequest()).items.first { $0.id == album.id }?.title
        }
    }

    @Test("own writes at once, others' after replay; a paused (lagging) replica and a dead one")
    func readYourWrites() async throws {
        let schema = TestServer.freshSchema()
        let primaryLocation = try TestServer.location().inSchema(schema)
        let replicaLocation = try Self.replica().inSchema(schema)
        defer { Task { try? await TestServer.drop(primaryLocation) } }
        let store = try await PostgresDataStore.open(primary: primaryLocation, replicas: [replicaLocation])
        defer { store.close() }
        let primary = try await TestServer.connect(primaryLocation)
        let replica = try await TestServer.connect(replicaLocation)
        defer {
            Task {
                _ = try? await replica.query("SELECT pg_wal_replay_resume()", logger: Logger(label: "test"))
                try? await replica.close()
                try? await primary.close()
            }
        }

        let (owner, _, album) = try await DataStoreContract.seed(store)
        let someoneElse = UUID()
        try await Self.caughtUp(primary: primary, replica: replica)
        #expect(try await Self.title(store, album, as: someoneElse) == album.title)

        // The replica stops replaying: it lags behind every write from now on.
        _ = try await replica.query("SELECT pg_wal_replay_pause()", logger: Logger(label: "test"))
        let scope = ReadScope(presentedPosition: nil)
        scope.subject = owner.id
        _ = try await ReadScope.$current.withValue(scope) { try await store.catalog.updateAlbum(id: album.id) { $0.title = "Renamed" } }
        let written = try #require(scope.writtenPosition, "a write with replicas records its position for the response")

        // Reads by id go to the primary whoever reads: they fill the read cache.
        #expect(
            try await ReadScope.$current.withValue(ReadScope(presentedPosition: nil)) { try await store.catalog.album(id: album.id)?.title }
                == "Renamed")
        // The writer, on its next request (any instance: the write was announced), reads it from the primary.
        #expect(try await Self.title(store, album, as: owner.id) == "Renamed")
        // A client presenting the position (the header or cookie), whoever it is, too.
        #expect(try await Self.title(store, album, as: nil, presenting: written) == "Renamed")
        // Everybody else is served by the replica, which does not have it yet: reads do go to the replica.
        #expect(try await Self.title(store, album, as: someoneElse) == album.title)

        // Another instance, which did not make the write, hears of it and routes the writer the same way.
        let other = try await PostgresDataStore.open(primary: primaryLocation, replicas: [replicaLocation], migrate: false)
        defer { other.close() }
        let scope2 = ReadScope(presentedPosition: nil)
        scope2.subject = owner.id
        _ = try await ReadScope.$current.withValue(scope2) { try await store.catalog.updateAlbum(id: album.id) { $0.title = "Again" } }
        try await eventually("the other instance sends the writer's reads to the primary") {
            try await Self.title(other, album, as: owner.id) == "Again"
        }
        #expect(try await Self.title(other, album, as: someoneElse) == album.title)

        // Replay resumes: everybody sees it once the replica has it.
        _ = try await replica.query("SELECT pg_wal_replay_resume()", logger: Logger(label: "test"))
        try await eventually("others see the write once it is replayed") { try await Self.title(store, album, as: someoneElse) == "Again" }

        // The position answered covers the commit itself, while the replica replays (the test server runs
        // with synchronous_commit off, where the WAL write position can still be short of the commit record).
        for round in 0..<20 {
            let writer = ReadScope(presentedPosition: nil)
            writer.subject = owner.id
            _ = try await ReadScope.$current.withValue(writer) { try await store.catalog.updateAlbum(id: album.id) { $0.title = "Round \(round)" } }
            let position = try #require(writer.writtenPosition)
            #expect(try await Self.title(other, album, as: nil, presenting: position) == "Round \(round)")
        }

        // A replica that is gone (nothing listens on its port): reads go to the live one or the primary, without errors.
        var dead = replicaLocation
        dead.port = try unusedPort()
        let withDead = try await PostgresDataStore.open(primary: primaryLocation, replicas: [dead], migrate: false)
        defer { withDead.close() }
        for _ in 0..<3 { #expect(try await Self.title(withDead, album, as: someoneElse) == "Round 19") }
    }
}
