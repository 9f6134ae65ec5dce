import EncoreCore
import EncoreSQLite
import EncoreTestSupport
import Foundation
import Synchronization
import Testing

/// Runs the data store contract against SQLite, each check on a fresh database file.
@Suite("SQLiteDataStore passes the DataStore contract", .timeLimit(.minutes(5)))
struct SQLiteDataStoreTests {
    static func withDatabase<T>(_ body: (SQLiteDataStore, String) async throws -> T) async throws -> T {
        let directory = NSTemporaryDirectory() + "/encore-sqlite-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try SQLiteDataStore(path: directory + "/catalog.sqlite")
        defer { closeThenRemove(store, directory) }
        return try await body(store, directory)
    }

    @Test("contract", arguments: DataStoreContract.checks.map(\.0))
    func contract(name: String) async throws {
        try await Self.withDatabase { store, _ in try await DataStoreContract.run(name, on: store) }
    }

    @Test("the read cache in front of SQLite passes the same contract", arguments: DataStoreContract.checks.map(\.0))
    func cachedContract(name: String) async throws {
        // A long max age: the contract must hold through the cache's own invalidation, not through expiry.
        try await Self.withDatabase { store, _ in
            try await DataStoreContract.run(name, on: CachedDataStore(store, cache: ReadCache(maxAge: .seconds(3600))))
        }
    }

    @Test("the read cache shows its own writes at once and other processes' writes after its max age")
    func cacheStaleness() async throws {
        try await Self.withDatabase { base, _ in
            let clock = ManualClock()
            let cached = CachedDataStore(base, cache: ReadCache(maxAge: .seconds(1), now: { clock.now }))
            let (user, artist, album) = try await DataStoreContract.seed(cached)
            let track = try await cached.tracks.insertTrack(DataStoreContract.track(album: album, title: "First"))

            #expect(try await cached.tracks.track(id: track.id)?.title == "First")
            #expect(try await cached.accounts.user(id: user.id)?.displayName == user.displayName)
            // Its own writes: seen on the next read, in a transaction or not.
            _ = try await cached.tracks.updateTrack(id: track.id) { $0.title = "Second" }
            #expect(try await cached.tracks.track(id: track.id)?.title == "Second")
            _ = try await cached.catalog.updateArtist(id: artist.id) { $0.name = "Renamed" }
            #expect(try await cached.catalog.artist(id: artist.id)?.name == "Renamed")
            try await cached.transaction { tx in _ = try await tx.catalog.updateAlbum(id: album.id) { $0.title = "In a transaction" } }
            #expect(try await cached.catalog.album(id: album.id)?.title == "In a transaction")
            _ = try await cached.accounts.deleteUser(id: user.id)
            #expect(try await cached.accounts.user(id: user.id) == nil)
            #expect(try await cached.tracks.track(id: track.id) == nil)

            // Writes behind its back (another process): stale until the max age passes, then fresh.
            let (other, _, otherAlbum) = try await DataStoreContract.seed(cached)
            let otherTrack = try await cached.tracks.insertTrack(DataStoreContract.track(album: otherAlbum, title: "Old"))
            #expect(try await cached.tracks.track(id: otherTrack.id)?.title == "Old")
            #expect(try await cached.accounts.user(id: other.id) != nil)
            _ = try await base.tracks.updateTrack(id: otherTrack.id) { $0.title = "New" }
            _ = try await base.accounts.deleteUser(id: other.id)
            clock.advance(by: .milliseconds(999))
            #expect(try await cached.tracks.track(id: otherTrack.id)?.title == "Old")
            #expect(try await cached.accounts.user(id: other.id) != nil)
            clock.advance(by: .milliseconds(1))
            #expect(try await cached.tracks.track(id: otherTrack.id) == nil)
            #expect(try await cached.accounts.user(id: other.id) == nil)
        }
    }

    @Test("a transaction in one process and writes from a second connection to the same file both land")
    func twoConnections() async throws {
        try await Self.withDatabase { store, directory in
            let second = try SQLiteDataStore(path: directory + "/catalog.sqlite")  // as another process would open it
            defer { try? second.close() }
            let (_, _, album) = try await DataStoreContract.seed(store)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for number in 1...8 {
                    let writer = number.isMultiple(of: 2) ? store : second
                    group.addTask {
                        try await writer.transaction { tx in
                            _ = try await tx.tracks.insertTrack(DataStoreContract.track(album: album, number: number))
                            try await tx.jobs.enqueue(JobRequest(kind: "k", payload: "\(number)"))
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.tracks.tracks(albumId: album.id, page: try PageRequest()).items.map(\.trackNumber) == Array(1...8))
        }
    }

    @Test("a transaction cancelled midway is rolled back, and the store takes writes afterwards")
    func cancelledTransaction() async throws {
        try await Self.withDatabase { store, _ in
            let (_, _, album) = try await DataStoreContract.seed(store)
            let doomed = DataStoreContract.track(album: album, number: 1)
            let (started, signal) = AsyncStream<Void>.makeStream()
            let task = Task {
                try await store.transaction { tx in
                    _ = try await tx.tracks.insertTrack(doomed)
                    signal.yield()
                    try await Task.sleep(for: .seconds(60))  // cancelled here, with the insert uncommitted
                    _ = try await tx.tracks.updateTrack(id: doomed.id) { $0.title = "never" }
                }
            }
            _ = await started.first { _ in true }
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(try await store.tracks.track(id: doomed.id) == nil)
            let next = try await store.tracks.insertTrack(DataStoreContract.track(album: album, number: 2))
            #expect(try await store.tracks.track(id: next.id) == next)
            try await store.transaction { tx in _ = try await tx.catalog.updateAlbum(id: album.id) { $0.title = "After" } }
            #expect(try await store.catalog.album(id: album.id)?.title == "After")
        }
    }

    @Test("misuse fails loudly instead of deadlocking or writing outside the transaction")
    func misuse() async throws {
        try await Self.withDatabase { store, _ in
            let (owner, _, _) = try await DataStoreContract.seed(store)
            // Writing through the outer store from inside its own transaction would wait for itself forever.
            let inside = await errorCode {
                try await store.transaction { _ in
                    _ = try await store.accounts.updateUser(id: owner.id, newPasswordHash: nil) { $0.displayName = "x" }
                }
            }
            #expect(inside == "internal_error")
            // A transaction's store kept past its transaction refuses to work.
            let escaped = try await store.transaction { tx in tx }
            #expect(await errorCode { _ = try await escaped.accounts.user(id: owner.id) } == "internal_error")
            #expect(try await store.accounts.user(id: owner.id)?.displayName == owner.displayName)
        }
    }

    @Test("reopening a database keeps its data and does not re-run migrations")
    func reopen() async throws {
        try await Self.withDatabase { store, directory in
            let user = DataStoreContract.user()
            try await store.accounts.insertUser(user, passwordHash: "h")
            let reopened = try SQLiteDataStore(path: directory + "/catalog.sqlite")
            defer { try? reopened.close() }
            #expect(try await reopened.accounts.user(id: user.id) == user)
        }
    }
}

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let current = Mutex(ContinuousClock.now)

    var now: ContinuousClock.Instant { current.withLock { $0 } }

    func advance(by duration: Duration) {
        current.withLock { $0 += duration }
    }
}
