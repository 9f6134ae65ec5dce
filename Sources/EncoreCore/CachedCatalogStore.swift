import Foundation
import Synchronization

/// A ``CatalogStore`` that remembers users, artists, albums and tracks read by id, so that the hot read
/// paths (every authenticated request looks its caller up; players poll track metadata) skip the database.
///
/// Consistency, as an explicit choice:
/// - writes made through this store empty the cache before they return, so this process reads its own
///   writes at once (a deleted account or a changed role takes effect on the next request);
/// - writes made elsewhere (an `encore worker` process, another API instance, `encore catalog import`)
///   become visible within ``maxAge``, the same kind of bounded staleness a read replica has.
///
/// Any write empties the whole cache: reads outnumber writes by far, and this keeps cascades (deleting
/// an artist removes its albums and tracks) trivially correct. A read that raced a write is not stored.
public final class CachedCatalogStore: CatalogStore {
    /// The store every call ends up in.
    public let base: any CatalogStore
    /// How long an entry may be served without asking ``base`` again.
    public let maxAge: Duration
    private let capacity: Int
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state = Mutex(State())

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
    public init(
        _ base: any CatalogStore, maxAge: Duration = .seconds(1), capacity: Int = 100_000,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.base = base
        self.maxAge = maxAge
        self.capacity = capacity
        self.now = now
    }

    // MARK: Cached reads

    private func cached<Value: Sendable>(_ id: UUID, load: () async throws -> Value?) async throws -> Value? {
        let key = Key(type: ObjectIdentifier(Value.self), id: id)
        let time = now()
        let maxAge = self.maxAge
        let (hit, generation) = state.withLock { state -> (Value?, Int) in
            guard let entry = state.entries[key], time - entry.storedAt < maxAge else { return (nil, state.generation) }
            return (entry.value as? Value, state.generation)
        }
        if let hit { return hit }
        guard let loaded = try await load() else { return nil }  // absent ids are not remembered: they may appear any moment
        let capacity = self.capacity
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= capacity { state.clear() }
            state.entries[key] = Entry(value: loaded, storedAt: time)
        }
        return loaded
    }

    public func user(id: UUID) async throws -> User? {
        try await cached(id) { try await base.user(id: id) }
    }

    public func artist(id: UUID) async throws -> Artist? {
        try await cached(id) { try await base.artist(id: id) }
    }

    public func album(id: UUID) async throws -> Album? {
        try await cached(id) { try await base.album(id: id) }
    }

    public func track(id: UUID) async throws -> Track? {
        try await cached(id) { try await base.track(id: id) }
    }

    /// Runs a write, then empties the cache. It is emptied after the write too (not only before), so a
    /// read that loaded the old row while the write ran cannot be kept.
    private func write<Result>(_ body: () async throws -> Result) async throws -> Result {
        state.withLock { $0.clear() }
        defer { state.withLock { $0.clear() } }
        return try await body()
    }

    // MARK: Writes

    public func insertUser(_ user: User, passwordHash: String) async throws {
        try await write { try await base.insertUser(user, passwordHash: passwordHash) }
    }

    public func updateUser(id: UUID, newPasswordHash: String?, _ change: @escaping @Sendable (inout User) throws -> Void) async throws -> User {
        try await write { try await base.updateUser(id: id, newPasswordHash: newPasswordHash, change) }
    }

    public func deleteUser(id: UUID) async throws -> [UUID] {
        try await write { try await base.deleteUser(id: id) }
    }

    public func insertArtist(_ artist: Artist) async throws {
        try await write { try await base.insertArtist(artist) }
    }

    public func updateArtist(id: UUID, _ change: @escaping @Sendable (inout Artist) throws -> Void) async throws -> Artist {
        try await write { try await base.updateArtist(id: id, change) }
    }

    public func deleteArtist(id: UUID) async throws -> [UUID] {
        try await write { try await base.deleteArtist(id: id) }
    }

    public func insertAlbum(_ album: Album) async throws {
        try await write { try await base.insertAlbum(album) }
    }

    public func updateAlbum(id: UUID, _ change: @escaping @Sendable (inout Album) throws -> Void) async throws -> Album {
        try await write { try await base.updateAlbum(id: id, change) }
    }

    public func deleteAlbum(id: UUID) async throws -> [UUID] {
        try await write { try await base.deleteAlbum(id: id) }
    }

    public func insertTrack(_ track: Track, job: JobRequest?) async throws -> Track {
        try await write { try await base.insertTrack(track, job: job) }
    }

    public func updateTrack(
        id: UUID, job: JobRequest?, _ change: @escaping @Sendable (inout Track) throws -> Void
    ) async throws -> (before: Track, after: Track) {
        try await write { try await base.updateTrack(id: id, job: job, change) }
    }

    public func finishProcessing(trackId: UUID, sourceKey: BlobKey, outcome: ProcessingOutcome) async throws -> (before: Track, after: Track)? {
        try await write { try await base.finishProcessing(trackId: trackId, sourceKey: sourceKey, outcome: outcome) }
    }

    public func deleteTrack(id: UUID) async throws -> Track? {
        try await write { try await base.deleteTrack(id: id) }
    }

    public func insertPlaylist(_ playlist: Playlist) async throws {
        try await write { try await base.insertPlaylist(playlist) }
    }

    public func updatePlaylist(id: UUID, _ change: @escaping @Sendable (inout Playlist) throws -> Void) async throws -> Playlist {
        try await write { try await base.updatePlaylist(id: id, change) }
    }

    public func deletePlaylist(id: UUID) async throws -> Bool {
        try await write { try await base.deletePlaylist(id: id) }
    }

    public func updatePlaylistSlots(
        playlistId: UUID, _ change: @escaping @Sendable (inout [PlaylistSlot]) throws -> Void
    ) async throws -> Playlist {
        try await write { try await base.updatePlaylistSlots(playlistId: playlistId, change) }
    }

    /// Play events change no cached record, so they leave the cache alone.
    public func recordPlay(_ event: PlayEvent) async throws {
        try await base.recordPlay(event)
    }

    // MARK: Reads passed through (lists, credentials and look-ups that are not on a hot path)

    public func ping() async throws { try await base.ping() }

    public func credentials(email: String) async throws -> (user: User, passwordHash: String)? {
        try await base.credentials(email: email)
    }

    public func artists(ownerId: UUID?, page: PageRequest) async throws -> Page<Artist> {
        try await base.artists(ownerId: ownerId, page: page)
    }

    public func albums(artistId: UUID, page: PageRequest) async throws -> Page<Album> {
        try await base.albums(artistId: artistId, page: page)
    }

    public func tracks(albumId: UUID, page: PageRequest) async throws -> Page<Track> {
        try await base.tracks(albumId: albumId, page: page)
    }

    public func fingerprintCandidates(durationSeconds: Double, tolerance: Double, excludingTrack: UUID) async throws -> [FingerprintCandidate] {
        try await base.fingerprintCandidates(durationSeconds: durationSeconds, tolerance: tolerance, excludingTrack: excludingTrack)
    }

    public func playlist(id: UUID) async throws -> Playlist? { try await base.playlist(id: id) }

    public func playlists(ownerId: UUID, page: PageRequest) async throws -> Page<Playlist> {
        try await base.playlists(ownerId: ownerId, page: page)
    }

    public func playlistEntries(playlistId: UUID, page: PageRequest) async throws -> Page<PlaylistEntry> {
        try await base.playlistEntries(playlistId: playlistId, page: page)
    }

    public func artists(ids: [UUID]) async throws -> [UUID: Artist] { try await base.artists(ids: ids) }
    public func albums(ids: [UUID]) async throws -> [UUID: Album] { try await base.albums(ids: ids) }
    public func tracks(ids: [UUID]) async throws -> [UUID: Track] { try await base.tracks(ids: ids) }
    public func playCount(trackId: UUID) async throws -> Int { try await base.playCount(trackId: trackId) }
}
