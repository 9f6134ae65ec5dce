import Foundation

// Persistence, one repository per aggregate, gathered by a ``DataStore`` that can run several of them in
// one transaction. Repositories enforce integrity (unique emails, unique track numbers within an album,
// cascades) but not permissions: the use-case services decide who may do what. Every implementation
// passes the shared contract suites in the `EncoreTestSupport` target.

/// Accounts: users and their password hashes.
public protocol AccountRepository: Sendable {
    /// Throws `email_taken` when the email is in use.
    func insertUser(_ user: User, passwordHash: String) async throws
    func user(id: UUID) async throws -> User?
    /// The user and their password hash, looked up by (already normalised) email.
    func credentials(email: String) async throws -> (user: User, passwordHash: String)?
    /// Applies `change` to the stored user in one transaction; `newPasswordHash` replaces the hash when given.
    func updateUser(id: UUID, newPasswordHash: String?, _ change: @escaping @Sendable (inout User) throws -> Void) async throws -> User
    /// Removes the user and everything they own; returns what went with them.
    func deleteUser(id: UUID) async throws -> Removed
}

/// The published catalog: artist profiles and their albums.
public protocol CatalogRepository: Sendable {
    func insertArtist(_ artist: Artist) async throws
    func artist(id: UUID) async throws -> Artist?
    /// Artists ordered by name; only those owned by `ownerId` when given.
    func artists(ownerId: UUID?, page: PageRequest) async throws -> Page<Artist>
    func artists(ids: [UUID]) async throws -> [UUID: Artist]
    func updateArtist(id: UUID, _ change: @escaping @Sendable (inout Artist) throws -> Void) async throws -> (before: Artist, after: Artist)
    func deleteArtist(id: UUID) async throws -> Removed

    func insertAlbum(_ album: Album) async throws
    func album(id: UUID) async throws -> Album?
    /// An artist's albums, oldest release first.
    func albums(artistId: UUID, page: PageRequest) async throws -> Page<Album>
    func albums(ids: [UUID]) async throws -> [UUID: Album]
    func updateAlbum(id: UUID, _ change: @escaping @Sendable (inout Album) throws -> Void) async throws -> (before: Album, after: Album)
    func deleteAlbum(id: UUID) async throws -> Removed
}

/// Tracks with their media and fingerprints.
public protocol TrackRepository: Sendable {
    /// Inserts a track. When `track.trackNumber` is 0 the next free number in the album is assigned.
    /// Throws `track_number_taken` when the number is used.
    func insertTrack(_ track: Track) async throws -> Track
    func track(id: UUID) async throws -> Track?
    func tracks(ids: [UUID]) async throws -> [UUID: Track]
    /// An album's tracks in track-number order.
    func tracks(albumId: UUID, page: PageRequest) async throws -> Page<Track>
    /// Applies `change` in one transaction; returns the track before and after.
    func updateTrack(id: UUID, _ change: @escaping @Sendable (inout Track) throws -> Void) async throws -> (before: Track, after: Track)
    /// Stores the fingerprint of a track's committed audio.
    func saveFingerprint(_ fingerprint: AudioFingerprint, trackId: UUID, artistId: UUID) async throws
    /// Fingerprints of ready tracks whose duration is within `tolerance` seconds of `durationSeconds`.
    func fingerprintCandidates(durationSeconds: Double, tolerance: Double, excludingTrack: UUID) async throws -> [FingerprintCandidate]
    /// Removes the track (and its playlist entries and play events); returns it, or nil when it did not exist.
    func deleteTrack(id: UUID) async throws -> Track?
}

/// Users' playlists and their ordered slots.
public protocol PlaylistRepository: Sendable {
    func insertPlaylist(_ playlist: Playlist) async throws
    func playlist(id: UUID) async throws -> Playlist?
    func playlists(ownerId: UUID, page: PageRequest) async throws -> Page<Playlist>
    func updatePlaylist(id: UUID, _ change: @escaping @Sendable (inout Playlist) throws -> Void) async throws -> Playlist
    func deletePlaylist(id: UUID) async throws -> Bool
    func playlistEntries(playlistId: UUID, page: PageRequest) async throws -> Page<PlaylistEntry>
    /// Rewrites a playlist's slots in one transaction: `change` receives the current slots in order.
    func updatePlaylistSlots(playlistId: UUID, _ change: @escaping @Sendable (inout [PlaylistSlot]) throws -> Void) async throws -> Playlist
}

/// Listening history: what users played, and for how long.
public protocol PlayRepository: Sendable {
    /// Records a play, or returns the one already recorded under its id (reports are idempotent), saying
    /// which. Throws `play_id_taken` when the id is another user's play.
    func recordPlay(_ play: Play) async throws -> (play: Play, recorded: Bool)
    /// Plays of a track that count (``Play/countsAsPlay``).
    func playCount(trackId: UUID) async throws -> Int
    /// A user's plays, newest first.
    func history(userId: UUID, page: PageRequest) async throws -> Page<Play>
    /// When the user last played each of `trackIds` they played (counted or not).
    func lastPlayed(userId: UUID, trackIds: [UUID]) async throws -> [UUID: Date]
}

/// Keeps the search index in step with the catalog. Called inside the transaction of the write it
/// follows, so the index never disagrees with what was committed; a backend with its own engine (or
/// triggers) may do its work here or nothing at all.
public protocol SearchIndexWriter: Sendable {
    /// (Re)indexes an artist; with `cascade`, also every album and track whose document carries its name.
    func artistChanged(_ id: UUID, cascade: Bool) async throws
    /// (Re)indexes an album; with `cascade`, also its tracks.
    func albumChanged(_ id: UUID, cascade: Bool) async throws
    func trackChanged(_ id: UUID) async throws
    /// Forgets artists, albums or tracks (any mix of ids).
    func removed(_ ids: [UUID]) async throws
    /// A play that counts raises the popularity of the track, its album and its artist.
    func played(trackId: UUID, at time: Date) async throws
}

/// Everything a deployment stores, one repository per aggregate.
///
/// ``transaction(_:)`` runs several repositories' work atomically: the body gets a store whose
/// repositories all write in one transaction, committed when the body returns and rolled back when it
/// throws. Outside a transaction every call is atomic on its own.
public protocol DataStore: Sendable {
    var accounts: any AccountRepository { get }
    var catalog: any CatalogRepository { get }
    var tracks: any TrackRepository { get }
    var playlists: any PlaylistRepository { get }
    var plays: any PlayRepository { get }
    var appPasswords: any AppPasswordRepository { get }
    var listeners: any ListenerRepository { get }
    var browse: any BrowseRepository { get }
    var jobs: any JobQueue { get }
    var searchIndex: any SearchIndexWriter { get }

    /// Cheap round trip used by readiness checks.
    func ping() async throws

    func transaction<T: Sendable>(_ body: @escaping @Sendable (any DataStore) async throws -> T) async throws -> T
}

/// What a cascading delete removed: the ids of every artist, album and track that went, so that the
/// caller can update the search index and remove stored objects (everything under `tracks/{id}/`).
public struct Removed: Sendable, Equatable {
    public var artistIds: [UUID]
    public var albumIds: [UUID]
    public var trackIds: [UUID]

    public init(artistIds: [UUID] = [], albumIds: [UUID] = [], trackIds: [UUID] = []) {
        self.artistIds = artistIds
        self.albumIds = albumIds
        self.trackIds = trackIds
    }

    public var all: [UUID] { artistIds + albumIds + trackIds }
}

/// One stored slot of a playlist, as ``PlaylistRepository/updatePlaylistSlots(playlistId:_:)`` sees it.
public struct PlaylistSlot: Sendable, Equatable {
    public var trackId: UUID
    public var addedAt: Date

    public init(trackId: UUID, addedAt: Date) {
        self.trackId = trackId
        self.addedAt = addedAt
    }
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
