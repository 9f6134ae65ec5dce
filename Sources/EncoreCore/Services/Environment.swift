import Foundation

/// What every use-case service works with: the store, the blob store, the limits and the clock.
public struct ServiceEnvironment: Sendable {
    /// Limits and lifetimes the services apply.
    public struct Settings: Sendable {
        /// Largest upload accepted, in bytes.
        public var maxUploadBytes: Int
        /// How long a pre-signed upload URL stays valid.
        public var uploadURLLifetime: Duration
        /// How long a signed stream URL stays valid.
        public var streamURLLifetime: Duration

        public init(maxUploadBytes: Int = 2 << 30, uploadURLLifetime: Duration = .seconds(900), streamURLLifetime: Duration = .seconds(3600)) {
            self.maxUploadBytes = maxUploadBytes
            self.uploadURLLifetime = uploadURLLifetime
            self.streamURLLifetime = streamURLLifetime
        }
    }

    public let store: any DataStore
    public let blobs: any BlobStore
    public let settings: Settings
    public let now: @Sendable () -> Date

    public init(store: any DataStore, blobs: any BlobStore, settings: Settings = Settings(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.blobs = blobs
        self.settings = settings
        self.now = now
    }

    // MARK: Look-ups every service needs

    func artist(_ id: UUID) async throws -> Artist {
        guard let artist = try await store.catalog.artist(id: id) else { throw EncoreError.notFound(.artistNotFound) }
        return artist
    }

    func album(_ id: UUID) async throws -> Album {
        guard let album = try await store.catalog.album(id: id) else { throw EncoreError.notFound(.albumNotFound) }
        return album
    }

    func track(_ id: UUID) async throws -> Track {
        guard let track = try await store.tracks.track(id: id) else { throw EncoreError.notFound(.trackNotFound) }
        return track
    }

    /// The album, checked: the caller must own the album's artist.
    func ownedAlbum(_ principal: Principal, id: UUID) async throws -> Album {
        let album = try await album(id)
        try principal.requireOwnership(of: try await artist(album.artistId).ownerId)
        return album
    }

    /// The track, checked: the caller must own the track's artist.
    func ownedTrack(_ principal: Principal, id: UUID) async throws -> Track {
        let track = try await track(id)
        try principal.requireOwnership(of: try await artist(track.artistId).ownerId)
        return track
    }

    /// Deletes the objects of tracks whose rows are gone; the search index was updated with the rows.
    func removeObjects(of removed: Removed) async throws {
        for id in removed.albumIds { try await blobs.deleteAll(under: CoverKeys.prefix(of: id)) }
        for id in removed.trackIds {
            // The rows are gone already; objects left behind by a failure here are unreachable, not visible.
            try await blobs.deleteAll(under: TrackKeys.prefix(of: id))
        }
    }
}

/// Every use-case service, built over one environment: what an API surface is given.
public struct EncoreServices: Sendable {
    public let environment: ServiceEnvironment
    public let accounts: AccountService
    public let catalog: CatalogService
    public let tracks: TrackService
    public let playback: PlaybackService
    public let playlists: PlaylistService
    public let plays: PlayService
    public let appPasswords: AppPasswordService
    public let library: LibraryService
    /// Failed sign-ins per account, shared by every way of signing in.
    public let loginThrottle: LoginThrottle
    /// Catalog search; results are hydrated from the store.
    public let search: SearchService

    public init(
        environment: ServiceEnvironment, hasher: any PasswordHasher, sealer: any SecretSealer, search: any CatalogSearch,
        loginThrottle: LoginThrottle = LoginThrottle()
    ) {
        self.environment = environment
        self.loginThrottle = loginThrottle
        accounts = AccountService(environment: environment, hasher: hasher, throttle: loginThrottle)
        catalog = CatalogService(environment: environment)
        tracks = TrackService(environment: environment)
        playback = PlaybackService(environment: environment)
        playlists = PlaylistService(environment: environment)
        plays = PlayService(environment: environment)
        appPasswords = AppPasswordService(environment: environment, sealer: sealer, throttle: loginThrottle)
        library = LibraryService(environment: environment)
        self.search = SearchService(store: environment.store, engine: search)
    }
}

extension Duration {
    /// The duration in seconds, as Foundation measures intervals.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}

extension Optional where Wrapped: Sendable {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
