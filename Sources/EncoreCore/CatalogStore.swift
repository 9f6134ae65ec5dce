import Foundation

/// Persistence for the catalog: users, artists, albums, tracks, playlists and play events.
///
/// A store enforces integrity (unique emails, unique track numbers within an album, cascades) but not
/// permissions: callers (``CatalogService``) decide who may do what. Every implementation passes the
/// shared contract suite in `EncoreSQLiteTests/CatalogStoreContract.swift`.
///
/// Deletions that cascade to tracks return the ids of the removed tracks, so that the caller can remove
/// their objects (everything under `tracks/{id}/`) once the rows are gone.
public protocol CatalogStore: Sendable {
    /// Cheap round trip used by readiness checks.
    func ping() async throws

    // MARK: Users
    /// Throws `conflict`/`email_taken` when the email is in use.
    func insertUser(_ user: User, passwordHash: String) async throws
    func user(id: UUID) async throws -> User?
    /// The user and their password hash, looked up by (already normalised) email.
    func credentials(email: String) async throws -> (user: User, passwordHash: String)?
    /// Applies `change` to the stored user in one transaction; `newPasswordHash` replaces the hash when given.
    func updateUser(id: UUID, newPasswordHash: String?, _ change: @escaping @Sendable (inout User) throws -> Void) async throws -> User
    func deleteUser(id: UUID) async throws -> [UUID]

    // MARK: Artists
    func insertArtist(_ artist: Artist) async throws
    func artist(id: UUID) async throws -> Artist?
    /// Artists ordered by name; only those owned by `ownerId` when given.
    func artists(ownerId: UUID?, page: PageRequest) async throws -> Page<Artist>
    func updateArtist(id: UUID, _ change: @escaping @Sendable (inout Artist) throws -> Void) async throws -> Artist
    func deleteArtist(id: UUID) async throws -> [UUID]

    // MARK: Albums
    func insertAlbum(_ album: Album) async throws
    func album(id: UUID) async throws -> Album?
    /// An artist's albums, oldest release first.
    func albums(artistId: UUID, page: PageRequest) async throws -> Page<Album>
    func updateAlbum(id: UUID, _ change: @escaping @Sendable (inout Album) throws -> Void) async throws -> Album
    func deleteAlbum(id: UUID) async throws -> [UUID]

    // MARK: Tracks
    /// Inserts a track, and queues `job` in the same transaction. When `track.trackNumber` is 0 the next free
    /// number in the album is assigned. Throws `conflict`/`track_number_taken` when the number is used.
    func insertTrack(_ track: Track, job: JobRequest?) async throws -> Track
    func track(id: UUID) async throws -> Track?
    /// An album's tracks in track-number order.
    func tracks(albumId: UUID, page: PageRequest) async throws -> Page<Track>
    /// Applies `change` and queues `job` in one transaction; returns the track before and after.
    func updateTrack(
        id: UUID, job: JobRequest?, _ change: @escaping @Sendable (inout Track) throws -> Void
    ) async throws -> (
        before: Track, after: Track
    )

    /// Commits the pipeline's outcome for the upload `sourceKey`, only if the track still waits for that
    /// upload (it was not deleted or replaced meanwhile). Returns the track before and after, or nil when
    /// the outcome is stale. A ready outcome stores the fingerprint too.
    func finishProcessing(trackId: UUID, sourceKey: BlobKey, outcome: ProcessingOutcome) async throws -> (before: Track, after: Track)?

    /// Fingerprints of ready tracks whose duration is within `tolerance` seconds of `durationSeconds`.
    func fingerprintCandidates(durationSeconds: Double, tolerance: Double, excludingTrack: UUID) async throws -> [FingerprintCandidate]
    /// Removes the track (and its playlist entries and play events); returns it, or nil when it did not exist.
    func deleteTrack(id: UUID) async throws -> Track?

    // MARK: Playlists
    func insertPlaylist(_ playlist: Playlist) async throws
    func playlist(id: UUID) async throws -> Playlist?
    func playlists(ownerId: UUID, page: PageRequest) async throws -> Page<Playlist>
    func updatePlaylist(id: UUID, _ change: @escaping @Sendable (inout Playlist) throws -> Void) async throws -> Playlist
    func deletePlaylist(id: UUID) async throws -> Bool
    func playlistEntries(playlistId: UUID, page: PageRequest) async throws -> Page<PlaylistEntry>
    /// Rewrites a playlist's slots in one transaction: `change` receives the current slots in order.
    func updatePlaylistSlots(playlistId: UUID, _ change: @escaping @Sendable (inout [PlaylistSlot]) throws -> Void) async throws -> Playlist

    // MARK: Look-ups by id (search results)
    func artists(ids: [UUID]) async throws -> [UUID: Artist]
    func albums(ids: [UUID]) async throws -> [UUID: Album]
    func tracks(ids: [UUID]) async throws -> [UUID: Track]

    // MARK: Plays
    func recordPlay(_ event: PlayEvent) async throws
    func playCount(trackId: UUID) async throws -> Int
}

/// One stored slot of a playlist, as ``CatalogStore/updatePlaylistSlots(playlistId:_:)`` sees it.
public struct PlaylistSlot: Sendable, Equatable {
    public var trackId: UUID
    public var addedAt: Date

    public init(trackId: UUID, addedAt: Date) {
        self.trackId = trackId
        self.addedAt = addedAt
    }
}

/// What the pipeline decided about one upload.
public enum ProcessingOutcome: Sendable {
    case ready(media: TrackMedia, audio: AudioInfo, fingerprint: AudioFingerprint, linkedTrackId: UUID?)
    case failed(TrackFailure)
}

/// A stored fingerprint and whose track it is.
public struct FingerprintCandidate: Sendable {
    public var trackId: UUID
    public var artistId: UUID
    public var fingerprint: AudioFingerprint

    public init(trackId: UUID, artistId: UUID, fingerprint: AudioFingerprint) {
        self.trackId = trackId
        self.artistId = artistId
        self.fingerprint = fingerprint
    }
}
