import Foundation

// A listener's library: what they starred and rated, the queue they left off in, and the views over the
// playable catalog that browsing apps list (newest albums, genres, random songs, …). "Playable" means
// ready: a track still processing, or failed, is not part of anyone's library, and an album or artist
// counts only once it has a playable track.

/// What a star or a rating is about.
public enum LibraryItemKind: String, Sendable, Codable, CaseIterable {
    case artist
    case album
    case track
}

/// An artist, album or track, by id.
public struct LibraryItem: Sendable, Hashable {
    public var kind: LibraryItemKind
    public var id: UUID

    public init(_ kind: LibraryItemKind, _ id: UUID) {
        self.kind = kind
        self.id = id
    }
}

/// A starred (favourite) item and when it was starred.
public struct Star: Sendable, Equatable {
    public var item: LibraryItem
    public var starredAt: Date

    public init(item: LibraryItem, starredAt: Date) {
        self.item = item
        self.starredAt = starredAt
    }
}

/// The queue a listener's player saved, so another device can pick up where they left off.
public struct PlayQueue: Sendable, Equatable {
    /// Longest queue kept: players send their whole queue on every save.
    public static let maxTracks = 1000

    public var userId: UUID
    public var trackIds: [UUID]
    public var currentTrackId: UUID?
    /// Position in the current track.
    public var positionMs: Int
    public var changedAt: Date
    /// The app that saved it, as it named itself.
    public var changedBy: String

    public init(userId: UUID, trackIds: [UUID], currentTrackId: UUID?, positionMs: Int, changedAt: Date, changedBy: String) {
        self.userId = userId
        self.trackIds = trackIds
        self.currentTrackId = currentTrackId
        self.positionMs = positionMs
        self.changedAt = changedAt
        self.changedBy = changedBy
    }
}

/// Per-listener state: stars, ratings and the saved play queue. Rows go with the user and with the item.
public protocol ListenerRepository: Sendable {
    /// Stars or unstars an item. Starring a starred item keeps its first date. Throws `reference_missing`
    /// when the user or the item does not exist.
    func setStarred(_ starred: Bool, item: LibraryItem, userId: UUID, at time: Date) async throws
    /// A user's stars of one kind, newest first.
    func stars(userId: UUID, kind: LibraryItemKind, page: PageRequest) async throws -> Page<Star>
    /// When the user starred each of `ids` that they starred.
    func starDates(userId: UUID, ids: [UUID]) async throws -> [UUID: Date]
    /// Rates an item 1…5, or clears its rating with 0. Throws `reference_missing` like ``setStarred``.
    func setRating(_ rating: Int, item: LibraryItem, userId: UUID) async throws
    /// The user's rating of each of `ids` they rated.
    func ratings(userId: UUID, ids: [UUID]) async throws -> [UUID: Int]
    /// Replaces the user's saved queue. Throws `reference_missing` when a track does not exist.
    func savePlayQueue(_ queue: PlayQueue) async throws
    /// The saved queue, without tracks deleted since; nil when none was saved.
    func playQueue(userId: UUID) async throws -> PlayQueue?
}

/// An album with what album lists show next to it.
public struct AlbumSummary: Sendable, Equatable {
    public var album: Album
    public var artistName: String
    /// Playable tracks only, and their total duration.
    public var songCount: Int
    public var durationMs: Int
    /// Counted plays of its tracks.
    public var playCount: Int

    public init(album: Album, artistName: String, songCount: Int, durationMs: Int, playCount: Int) {
        self.album = album
        self.artistName = artistName
        self.songCount = songCount
        self.durationMs = durationMs
        self.playCount = playCount
    }
}

/// An artist and how many albums with playable tracks it has.
public struct ArtistSummary: Sendable, Equatable {
    public var artist: Artist
    public var albumCount: Int

    public init(artist: Artist, albumCount: Int) {
        self.artist = artist
        self.albumCount = albumCount
    }
}

/// A genre (as albums name it) and how much playable music it holds.
public struct GenreSummary: Sendable, Equatable {
    public var name: String
    public var albumCount: Int
    public var songCount: Int

    public init(name: String, albumCount: Int, songCount: Int) {
        self.name = name
        self.albumCount = albumCount
        self.songCount = songCount
    }
}

/// Which albums, in which order. Every listing holds only albums with a playable track.
public enum AlbumListing: Sendable, Equatable {
    /// Most recently added first.
    case newest
    /// By title, ignoring case.
    case alphabeticalByName
    /// By artist name, then release date.
    case alphabeticalByArtist
    /// A random sample (pages of a random listing are independent draws).
    case random
    /// Most counted plays first; albums never played are left out.
    case frequent
    /// Those the user played, most recently played first.
    case recent(userId: UUID)
    /// Those the user starred, most recently starred first.
    case starred(userId: UUID)
    /// Those the user rated, best first.
    case highest(userId: UUID)
    /// Released in `from`…`to`; when `from` > `to`, newest first (as Subsonic's byYear asks).
    case byYear(from: Int, to: Int)
    /// Of one genre (case-insensitive), by title.
    case byGenre(String)
    /// One artist's, oldest release first.
    case byArtist(UUID)
}

/// Which playable tracks, in which order.
public enum TrackListing: Sendable, Equatable {
    /// Every playable track in a stable order (by id): what a library sync pages through.
    case all
    /// A random sample, optionally of a genre and a span of release years.
    case random(genre: String?, fromYear: Int?, toYear: Int?)
    /// Of one genre (case-insensitive), by album title then track number.
    case byGenre(String)
    /// Those the user starred, most recently starred first.
    case starred(userId: UUID)
    /// Those with counted plays, most played first (what a CDN pre-warms).
    case mostPlayed
}

/// Read-only views over the playable catalog, for browsing apps.
public protocol BrowseRepository: Sendable {
    func albums(_ listing: AlbumListing, page: PageRequest) async throws -> Page<AlbumSummary>
    /// Summaries of the given albums that have a playable track.
    func albumSummaries(ids: [UUID]) async throws -> [UUID: AlbumSummary]
    /// Artists with a playable track, by name; or those the user starred, newest star first.
    func artists(starredBy userId: UUID?, page: PageRequest) async throws -> Page<ArtistSummary>
    func artistSummaries(ids: [UUID]) async throws -> [UUID: ArtistSummary]
    /// Every artist with a playable track, by name, in one read (apps index the whole list at start).
    func allArtists() async throws -> [ArtistSummary]
    func tracks(_ listing: TrackListing, page: PageRequest) async throws -> Page<Track>
    /// Genres with playable music, by name.
    func genres() async throws -> [GenreSummary]
    /// Counted plays of each of `trackIds` (0 when none).
    func playCounts(trackIds: [UUID]) async throws -> [UUID: Int]
}

extension Album {
    /// The release year, from the release date.
    public var releaseYear: Int? { releaseDate.flatMap { Int($0.prefix(4)) } }
}

extension String {
    /// What alphabetical listings sort by: case and accents folded, so "Ágætis byrjun" files under A and
    /// "björk" next to "Bjork". Ties are broken by the text itself, then by id.
    public var libraryOrderKey: String { folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil) }

    /// Orders two names as alphabetical listings do.
    public static func libraryOrder(_ lhs: String, _ rhs: String) -> ComparisonResult {
        let (left, right) = (lhs.libraryOrderKey, rhs.libraryOrderKey)
        if left != right { return left < right ? .orderedAscending : .orderedDescending }
        return lhs == rhs ? .orderedSame : (lhs < rhs ? .orderedAscending : .orderedDescending)
    }
}
