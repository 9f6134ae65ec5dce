import CoreMetrics
import Foundation
import Synchronization

/// A ``DataStore`` that remembers users, artists, albums and tracks read by id, so that the hot read
/// paths (every authenticated request looks its caller up; players poll track metadata) skip the database.
/// Only the repositories with hot reads are wrapped; the others are the base store's own.
///
/// Consistency, as an explicit choice:
/// - writes made through this store empty the cache before they return, so this process reads its own
///   writes at once (a deleted account or a changed role takes effect on the next request);
/// - writes made elsewhere (an `encore worker` process, another API instance, `encore catalog import`)
///   become visible within ``ReadCache/maxAge``, the same kind of bounded staleness a read replica has.
///
/// Any write empties the whole cache: reads outnumber writes by far, and this keeps cascades (deleting
/// an artist removes its albums and tracks) trivially correct. A read that raced a write is not stored.
public struct CachedDataStore: DataStore {
    /// The store every call ends up in.
    public let base: any DataStore
    public let cache: ReadCache

    // Made once: these are on every request's path.
    public let accounts: any AccountRepository
    public let catalog: any CatalogRepository
    public let tracks: any TrackRepository

    public init(_ base: any DataStore, cache: ReadCache) {
        self.base = base
        self.cache = cache
        accounts = CachedAccounts(base: base.accounts, cache: cache)
        catalog = CachedCatalog(base: base.catalog, cache: cache)
        tracks = CachedTracks(base: base.tracks, cache: cache)
    }

    public var playlists: any PlaylistRepository { base.playlists }
    public var plays: any PlayRepository { base.plays }
    public var appPasswords: any AppPasswordRepository { base.appPasswords }
    public var listeners: any ListenerRepository { base.listeners }
    public var browse: any BrowseRepository { base.browse }
    public var jobs: any JobQueue { base.jobs }
    public var searchIndex: any SearchIndexWriter { base.searchIndex }

    public func ping() async throws { try await base.ping() }

    /// The body works on the base store's transaction, uncached (a read inside it may see uncommitted
    /// rows, which must never be remembered). The cache is emptied after the commit only when the body used
    /// a repository whose entities are cached: a play report or a job leaves it warm.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any DataStore) async throws -> T) async throws -> T {
        let touched = TouchFlag()
        do {
            let result = try await base.transaction { tx in try await body(TouchTracking(base: tx, touched: touched)) }
            if touched.isSet { cache.invalidate() }
            return result
        } catch {
            if touched.isSet { cache.invalidate() }  // a failed COMMIT may still have landed
            throw error
        }
    }
}

private final class TouchFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

/// A transaction's store that notes when a repository with cached entities is used.
private struct TouchTracking: DataStore {
    let base: any DataStore
    let touched: TouchFlag

    private func touch() { touched.set() }

    var accounts: any AccountRepository {
        touch()
        return base.accounts
    }

    var catalog: any CatalogRepository {
        touch()
        return base.catalog
    }

    var tracks: any TrackRepository {
        touch()
        return base.tracks
    }

    var playlists: any PlaylistRepository { base.playlists }
    var plays: any PlayRepository { base.plays }
    var appPasswords: any AppPasswordRepository { base.appPasswords }
    var listeners: any ListenerRepository { base.listeners }
    var browse: any BrowseRepository { base.browse }
    var jobs: any JobQueue { base.jobs }
    var searchIndex: any SearchIndexWriter { base.searchIndex }

    func ping() async throws { try await base.ping() }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (any DataStore) async throws -> T) async throws -> T {
        try await body(self)
    }
}

/// Entities remembered by id for a bounded time; see ``CachedDataStore``.
public final class ReadCache: Sendable {
    /// How long an entry may be served without asking the database again.
    public let maxAge: Duration
    private let capacity: Int
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state = Mutex(State())
    private let hits: Counter
    private let misses: Counter

    /// Entries of every entity type share one table: the type is part of the key.
    private struct Key: Hashable {
        var type: ObjectIdentifier
        var id: UUID
    }

    private struct Entry {
        var value: any Sendable
        var storedAt: ContinuousClock.Instant
    }

    private struct State {
        /// Bumped by every write, so a read that started before it does not store what it saw.
        var generation = 0
        var entries: [Key: Entry] = [:]

        mutating func clear() {
            generation += 1
            entries.removeAll(keepingCapacity: true)
        }
    }

    /// - Parameters:
    ///   - maxAge: how stale a read may be for writes made outside this process.
    ///   - capacity: entries kept in all; when full, the cache starts over.
    ///   - now: the clock, replaceable in tests.
    ///   - metrics: where hits and misses are counted (`encore_cache_requests_total{cache="catalog"}`).
    public init(
        maxAge: Duration = .seconds(1), capacity: Int = 100_000, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
        metrics: any MetricsFactory = NOOPMetricsHandler.instance
    ) {
        self.maxAge = maxAge
        self.capacity = capacity
        self.now = now
        hits = Counter(label: "encore_cache_requests_total", dimensions: [("cache", "catalog"), ("result", "hit")], factory: metrics)
        misses = Counter(label: "encore_cache_requests_total", dimensions: [("cache", "catalog"), ("result", "miss")], factory: metrics)
    }

    func cached<Value: Sendable>(_ id: UUID, load: () async throws -> Value?) async throws -> Value? {
        let key = Key(type: ObjectIdentifier(Value.self), id: id)
        let time = now()
        let maxAge = self.maxAge
        let (hit, generation) = state.withLock { state -> (Value?, Int) in
            guard let entry = state.entries[key], time - entry.storedAt < maxAge else { return (nil, state.generation) }
            return (entry.value as? Value, state.generation)
        }
        if let hit {
            hits.increment()
            return hit
        }
        misses.increment()
        guard let loaded = try await load() else { return nil }  // absent ids are not remembered: they may appear any moment
        let capacity = self.capacity
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= capacity { state.clear() }
            state.entries[key] = Entry(value: loaded, storedAt: time)
        }
        return loaded
    }

    /// Runs a write, then empties the cache. It is emptied after the write too (not only before), so a
    /// read that loaded the old row while the write ran cannot be kept.
    func write<Result>(_ body: () async throws -> Result) async throws -> Result {
        state.withLock { $0.clear() }
        defer { state.withLock { $0.clear() } }
        return try await body()
    }

    /// Forgets everything, as a write would (another instance's change was announced, say).
    public func invalidate() {
        state.withLock { $0.clear() }
    }
}

private struct CachedAccounts: AccountRepository {
    let base: any AccountRepository
    let cache: ReadCache

    func user(id: UUID) async throws -> User? { try await cache.cached(id) { try await base.user(id: id) } }
    func credentials(email: String) async throws -> (user: User, passwordHash: String)? { try await base.credentials(email: email) }

    func insertUser(_ user: User, passwordHash: String) async throws {
        try await cache.write { try await base.insertUser(user, passwordHash: passwordHash) }
    }

    func updateUser(id: UUID, newPasswordHash: String?, _ change: @escaping @Sendable (inout User) throws -> Void) async throws -> User {
        try await cache.write { try await base.updateUser(id: id, newPasswordHash: newPasswordHash, change) }
    }

    func deleteUser(id: UUID) async throws -> Removed { try await cache.write { try await base.deleteUser(id: id) } }
}

private struct CachedCatalog: CatalogRepository {
    let base: any CatalogRepository
    let cache: ReadCache

    func artist(id: UUID) async throws -> Artist? { try await cache.cached(id) { try await base.artist(id: id) } }
    func album(id: UUID) async throws -> Album? { try await cache.cached(id) { try await base.album(id: id) } }
    func artists(ownerId: UUID?, page: PageRequest) async throws -> Page<Artist> { try await base.artists(ownerId: ownerId, page: page) }
    func artists(ids: [UUID]) async throws -> [UUID: Artist] { try await base.artists(ids: ids) }
    func albums(artistId: UUID, page: PageRequest) async throws -> Page<Album> { try await base.albums(artistId: artistId, page: page) }
    func albums(ids: [UUID]) async throws -> [UUID: Album] { try await base.albums(ids: ids) }

    func insertArtist(_ artist: Artist) async throws { try await cache.write { try await base.insertArtist(artist) } }

    func updateArtist(id: UUID, _ change: @escaping @Sendable (inout Artist) throws -> Void) async throws -> (before: Artist, after: Artist) {
        try await cache.write { try await base.updateArtist(id: id, change) }
    }

    func deleteArtist(id: UUID) async throws -> Removed { try await cache.write { try await base.deleteArtist(id: id) } }
    func insertAlbum(_ album: Album) async throws { try await cache.write { try await base.insertAlbum(album) } }

    func updateAlbum(id: UUID, _ change: @escaping @Sendable (inout Album) throws -> Void) async throws -> (before: Album, after: Album) {
        try await cache.write { try await base.updateAlbum(id: id, change) }
    }

    func deleteAlbum(id: UUID) async throws -> Removed { try await cache.write { try await base.deleteAlbum(id: id) } }
}

private struct CachedTracks: TrackRepository {
    let base: any TrackRepository
    let cache: ReadCache

    func track(id: UUID) async throws -> Track? { try await cache.cached(id) { try await base.track(id: id) } }
    func tracks(ids: [UUID]) async throws -> [UUID: Track] { try await base.tracks(ids: ids) }
    func tracks(albumId: UUID, page: PageRequest) async throws -> Page<Track> { try await base.tracks(albumId: albumId, page: page) }

    func fingerprintCandidates(durationSeconds: Double, tolerance: Double, excludingTrack: UUID) async throws -> [FingerprintCandidate] {
        try await base.fingerprintCandidates(durationSeconds: durationSeconds, tolerance: tolerance, excludingTrack: excludingTrack)
    }

    func insertTrack(_ track: Track) async throws -> Track { try await cache.write { try await base.insertTrack(track) } }

    func updateTrack(id: UUID, _ change: @escaping @Sendable (inout Track) throws -> Void) async throws -> (before: Track, after: Track) {
        try await cache.write { try await base.updateTrack(id: id, change) }
    }

    func saveFingerprint(_ fingerprint: AudioFingerprint, trackId: UUID, artistId: UUID) async throws {
        try await base.saveFingerprint(fingerprint, trackId: trackId, artistId: artistId)
    }

    func deleteTrack(id: UUID) async throws -> Track? { try await cache.write { try await base.deleteTrack(id: id) } }
}
