import EncoreCore
import EncoreSQLite
import Foundation
import Synchronization
import Testing

/// Runs the catalog store contract against SQLite, each check on a fresh database file.
@Suite("SQLiteCatalogStore passes the CatalogStore contract", .timeLimit(.minutes(5)))
struct SQLiteCatalogStoreTests {
    static let checks: [(String, @Sendable (any CatalogStore) async throws -> Void)] = [
        ("users", CatalogStoreContract.usersRoundTripAndEmailsAreUnique),
        ("user cascade", CatalogStoreContract.deletingAUserCascadesAndReportsBlobKeys),
        ("listing order", CatalogStoreContract.artistsAndAlbumsListInOrder),
        ("track numbers", CatalogStoreContract.trackNumbersAreAssignedAndUnique),
        ("album/artist cascade", CatalogStoreContract.deletingAnAlbumOrArtistReportsBlobKeys),
        ("playlists", CatalogStoreContract.playlistSlotsStayDenseAndFollowTrackDeletes),
        ("plays", CatalogStoreContract.playsAreCounted),
        ("processing outcomes", CatalogStoreContract.processingOutcomesApplyToTheirUploadOnly),
        ("fingerprints", CatalogStoreContract.fingerprintsOfReadyTracksAreCandidates),
    ]

    @Test("contract", arguments: checks.map(\.0))
    func contract(name: String) async throws {
        let directory = NSTemporaryDirectory() + "/encore-sqlite-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteCatalogStore(path: directory + "/catalog.sqlite")
        let check = try #require(Self.checks.first { $0.0 == name }?.1)
        try await check(store)
    }

    @Test("the read cache in front of SQLite passes the same contract", arguments: checks.map(\.0))
    func cachedContract(name: String) async throws {
        let directory = NSTemporaryDirectory() + "/encore-sqlite-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A long max age: the contract must hold through the cache's own invalidation, not through expiry.
        let store = CachedCatalogStore(try SQLiteCatalogStore(path: directory + "/catalog.sqlite"), maxAge: .seconds(3600))
        let check = try #require(Self.checks.first { $0.0 == name }?.1)
        try await check(store)
    }

    @Test("the read cache shows its own writes at once and other processes' writes after its max age")
    func cacheStaleness() async throws {
        let directory = NSTemporaryDirectory() + "/encore-sqlite-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let base = try SQLiteCatalogStore(path: directory + "/catalog.sqlite")
        let clock = ManualClock()
        let cached = CachedCatalogStore(base, maxAge: .seconds(1), now: { clock.now })
        let (user, artist, album) = try await CatalogStoreContract.seed(cached)
        let track = try await cached.insertTrack(CatalogStoreContract.track(album: album, title: "First"), job: nil)

        #expect(try await cached.track(id: track.id)?.title == "First")
        #expect(try await cached.user(id: user.id)?.displayName == user.displayName)
        // Its own writes: seen on the next read.
        _ = try await cached.updateTrack(id: track.id, job: nil) { $0.title = "Second" }
        #expect(try await cached.track(id: track.id)?.title == "Second")
        _ = try await cached.updateArtist(id: artist.id) { $0.name = "Renamed" }
        #expect(try await cached.artist(id: artist.id)?.name == "Renamed")
        _ = try await cached.deleteUser(id: user.id)
        #expect(try await cached.user(id: user.id) == nil)
        #expect(try await cached.track(id: track.id) == nil)

        // Writes behind its back (another process): stale until the max age passes, then fresh.
        let (other, _, otherAlbum) = try await CatalogStoreContract.seed(cached)
        let otherTrack = try await cached.insertTrack(CatalogStoreContract.track(album: otherAlbum, title: "Old"), job: nil)
        #expect(try await cached.track(id: otherTrack.id)?.title == "Old")
        #expect(try await cached.user(id: other.id) != nil)
        _ = try await base.updateTrack(id: otherTrack.id, job: nil) { $0.title = "New" }
        _ = try await base.deleteUser(id: other.id)
        clock.advance(by: .milliseconds(999))
        #expect(try await cached.track(id: otherTrack.id)?.title == "Old")
        #expect(try await cached.user(id: other.id) != nil)
        clock.advance(by: .milliseconds(1))
        #expect(try await cached.track(id: otherTrack.id) == nil)
        #expect(try await cached.user(id: other.id) == nil)
    }

    @Test("a track and its job commit together")
    func trackAndJob() async throws {
        let directory = NSTemporaryDirectory() + "/encore-sqlite-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await CatalogStoreContract.tracksAndTheirJobsCommitTogether(try SQLiteCatalogStore(path: directory + "/c.sqlite"))
    }

    @Test("reopening a database keeps its data and does not re-run migrations")
    func reopen() async throws {
        let directory = NSTemporaryDirectory() + "/encore-sqlite-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let user = CatalogStoreContract.user()
        try await SQLiteCatalogStore(path: directory + "/c.sqlite").insertUser(user, passwordHash: "h")
        #expect(try await SQLiteCatalogStore(path: directory + "/c.sqlite").user(id: user.id) == user)
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
