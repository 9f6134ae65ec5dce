import EncoreCore
import EncoreSQLite
import Foundation
import Testing

/// Runs the catalog store contract against SQLite, each check on a fresh database file.
@Suite("SQLiteCatalogStore passes the CatalogStore contract")
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
