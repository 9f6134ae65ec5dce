import EncoreCore
import Foundation

/// Password hashing for tests of the services: a fast, reversible stand-in for bcrypt that keeps the
/// contract that matters to them (a hash verifies its own password and no other; never the clear text).
public struct FastTestHasher: PasswordHasher {
    public init() {}

    public func hash(_ password: String) async throws -> String {
        "test$" + String(password.reversed()) + "$" + String(password.utf8.count)
    }

    public func verify(_ password: String, against hash: String) async throws -> Bool {
        try await self.hash(password) == hash
    }

    public func spendVerificationTime(_ password: String) async {}
}

/// The services over in-memory fakes, with a fixed clock: what the core's unit tests work on.
public struct ServiceFixture: Sendable {
    public let store: InMemoryDataStore
    public let blobs: InMemoryBlobStore
    public let services: EncoreServices
    public static let now = Date(timeIntervalSince1970: 1_800_000_000)

    public init(settings: ServiceEnvironment.Settings = .init(maxUploadBytes: 1000)) {
        store = InMemoryDataStore()
        blobs = InMemoryBlobStore()
        let environment = ServiceEnvironment(store: store, blobs: blobs, settings: settings, now: { Self.now })
        services = EncoreServices(environment: environment, hasher: FastTestHasher(), sealer: TestOnlySealer(), search: NoSearch())
    }

    /// A registered account and the principal acting as it.
    public func account(_ role: Role = .artist) async throws -> (User, Principal) {
        let user = try await services.accounts.register(
            email: "\(role.rawValue)-\(UUID().uuidString.prefix(8))@example.com", password: "a long password", displayName: "Someone", role: role)
        return (user, Principal(userId: user.id, role: user.role))
    }

    /// An artist profile and an album of `principal`'s, and a track made from an upload, still processing.
    public func publishedTrack(_ principal: Principal) async throws -> (artist: Artist, album: Album, track: Track) {
        let artist = try await services.catalog.createArtist(principal, name: "A", bio: nil, country: nil)
        let album = try await services.catalog.createAlbum(principal, artistId: artist.id, title: "B", genre: nil, releaseDate: nil)
        let track = try await services.tracks.createTrack(
            principal, albumId: album.id, title: "T", trackUrl: try await upload(principal), trackNumber: nil)
        return (artist, album, track)
    }

    /// An uploaded file of `size` bytes, as a client's `PUT` to its grant would leave it, and its `trackUrl`.
    public func upload(_ principal: Principal, size: Int = 100) async throws -> String {
        let grant = try await services.tracks.uploadGrant(principal)
        let reference = try UploadReference(parsing: grant.trackUrl, for: principal)
        _ = try blobs.store(Data(repeating: 7, count: size), at: reference.key)
        return grant.trackUrl
    }
}

/// The code of the ``EncoreError`` that `body` throws; nil when it succeeds, `other:…` for any other error.
public func errorCode(_ body: () async throws -> Void) async -> String? {
    do {
        try await body()
        return nil
    } catch let error as EncoreError {
        return error.code.rawValue
    } catch {
        return "other:\(error)"
    }
}

/// A search engine that finds nothing: for services tests that never search.
public struct NoSearch: CatalogSearch {
    public init() {}
    public func search(_ request: SearchRequest) async throws -> SearchResults { SearchResults(artists: [], albums: [], tracks: []) }
    public func reindex() async throws -> Int { 0 }
}
