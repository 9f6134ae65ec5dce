import Foundation
import Synchronization

/// A listener's library (stars, ratings, the saved queue, what is playing now) and the browsing views
/// over the playable catalog that apps list.
public struct LibraryService: Sendable {
    let environment: ServiceEnvironment
    /// What each listener's players say they are playing, in this process.
    public let nowPlaying = NowPlayingBoard()
    var store: any DataStore { environment.store }

    // MARK: Stars and ratings

    /// Stars (or with `starred` false, unstars) items; every item must exist (`*_not_found` otherwise).
    public func setStarred(_ principal: Principal, _ items: [LibraryItem], starred: Bool) async throws {
        let time = environment.now()
        for item in items {
            if starred { try await requireExists(item) }
            try await store.listeners.setStarred(starred, item: item, userId: principal.userId, at: time)
        }
    }

    /// Rates an item 1…5 stars, or clears its rating with 0.
    public func rate(_ principal: Principal, _ item: LibraryItem, rating: Int) async throws {
        guard (0...5).contains(rating) else { throw EncoreError(.invalidRating, "rating must be between 0 (none) and 5.") }
        if rating > 0 { try await requireExists(item) }
        try await store.listeners.setRating(rating, item: item, userId: principal.userId)
    }

    /// The caller's stars and ratings of `ids`, for listings that show them.
    public func marks(_ principal: Principal, ids: [UUID]) async throws -> ListenerMarks {
        let unique = Array(Set(ids))
        return ListenerMarks(
            starred: try await store.listeners.starDates(userId: principal.userId, ids: unique),
            ratings: try await store.listeners.ratings(userId: principal.userId, ids: unique))
    }

    /// When the caller last played each of `trackIds`.
    public func lastPlayed(_ principal: Principal, trackIds: [UUID]) async throws -> [UUID: Date] {
        try await store.plays.lastPlayed(userId: principal.userId, trackIds: Array(Set(trackIds)))
    }

    private func requireExists(_ item: LibraryItem) async throws {
        switch item.kind {
        case .artist: _ = try await environment.artist(item.id)
        case .album: _ = try await environment.album(item.id)
        case .track: _ = try await environment.track(item.id)
        }
    }

    // MARK: Play queue

    /// Saves the caller's queue (whole, as players send it). `current` must be one of its tracks.
    public func savePlayQueue(_ principal: Principal, trackIds: [UUID], current: UUID?, positionMs: Int, client: String) async throws {
        guard trackIds.count <= PlayQueue.maxTracks else {
            throw EncoreError(.invalidPlayQueue, "A saved queue holds at most \(PlayQueue.maxTracks) tracks.")
        }
        guard positionMs >= 0 else { throw EncoreError(.invalidPlayQueue, "position must not be negative.") }
        if let current, !trackIds.contains(current) {
            throw EncoreError(.invalidPlayQueue, "current must be one of the queue's tracks.")
        }
        let known = try await store.tracks.tracks(ids: Array(Set(trackIds)))
        if let missing = trackIds.first(where: { known[$0] == nil }) {
            throw EncoreError(.trackNotFound, "No track with id \(missing.uuidString.lowercased()).")
        }
        let client = String(client.prefix(100))
        try await store.listeners.savePlayQueue(
            PlayQueue(
                userId: principal.userId, trackIds: trackIds, currentTrackId: current, positionMs: positionMs, changedAt: environment.now(),
                changedBy: client.isEmpty ? "unknown" : client))
    }

    public func playQueue(_ principal: Principal) async throws -> PlayQueue? {
        try await store.listeners.playQueue(userId: principal.userId)
    }

    // MARK: Browsing

    public func albums(_ listing: AlbumListing, page: PageRequest) async throws -> Page<AlbumSummary> {
        try await store.browse.albums(listing, page: page)
    }

    public func album(_ id: UUID) async throws -> AlbumSummary {
        guard let summary = try await store.browse.albumSummaries(ids: [id])[id] else { throw EncoreError.notFound(.albumNotFound) }
        return summary
    }

    public func albumSummaries(ids: [UUID]) async throws -> [UUID: AlbumSummary] {
        try await store.browse.albumSummaries(ids: Array(Set(ids)))
    }

    /// Every artist with playable music, by name.
    public func allArtists() async throws -> [ArtistSummary] { try await store.browse.allArtists() }

    public func artist(_ id: UUID) async throws -> ArtistSummary {
        guard let summary = try await store.browse.artistSummaries(ids: [id])[id] else { throw EncoreError.notFound(.artistNotFound) }
        return summary
    }

    public func artistSummaries(ids: [UUID]) async throws -> [UUID: ArtistSummary] {
        try await store.browse.artistSummaries(ids: Array(Set(ids)))
    }

    /// Artists with playable music, by name.
    public func artists(page: PageRequest) async throws -> Page<ArtistSummary> {
        try await store.browse.artists(starredBy: nil, page: page)
    }

    public func starredArtists(_ principal: Principal, page: PageRequest) async throws -> Page<ArtistSummary> {
        try await store.browse.artists(starredBy: principal.userId, page: page)
    }

    public func tracks(_ listing: TrackListing, page: PageRequest) async throws -> Page<Track> {
        try await store.browse.tracks(listing, page: page)
    }

    /// An album's playable tracks in order.
    public func albumTracks(_ albumId: UUID) async throws -> [Track] {
        try await Page.collect { try await store.tracks.tracks(albumId: albumId, page: $0) }.filter(\.isPlayable)
    }

    /// A playable track, or `track_not_found` (a track still processing is not in anyone's library yet).
    public func playableTrack(_ id: UUID) async throws -> Track {
        let track = try await environment.track(id)
        guard track.isPlayable else { throw EncoreError.notFound(.trackNotFound) }
        return track
    }

    public func genres() async throws -> [GenreSummary] { try await store.browse.genres() }

    public func playCounts(trackIds: [UUID]) async throws -> [UUID: Int] {
        try await store.browse.playCounts(trackIds: Array(Set(trackIds)))
    }
}

/// A caller's stars and ratings of some items.
public struct ListenerMarks: Sendable {
    public var starred: [UUID: Date]
    public var ratings: [UUID: Int]

    public init(starred: [UUID: Date] = [:], ratings: [UUID: Int] = [:]) {
        self.starred = starred
        self.ratings = ratings
    }
}

/// What listeners are playing right now, as their players report it ("now playing" scrobbles). Kept in
/// memory: it is ephemeral by nature, and an entry lapses once its track would have ended.
public final class NowPlayingBoard: Sendable {
    public struct Entry: Sendable, Equatable {
        public var userId: UUID
        public var displayName: String
        public var trackId: UUID
        public var player: String
        public var startedAt: Date
        public var endsAt: Date
    }

    /// Players per listener remembered at most (each app on each device is one).
    static let maxPlayersPerUser = 10
    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    /// Notes that `user` started `track` on `player`.
    public func started(_ track: Track, by user: User, player: String, at time: Date) {
        let player = String(player.prefix(100))
        // A track whose duration is unknown stays for ten minutes.
        let length = track.durationMs > 0 ? TimeInterval(track.durationMs) / 1000 : 600
        let entry = Entry(
            userId: user.id, displayName: user.displayName, trackId: track.id, player: player, startedAt: time,
            endsAt: time.addingTimeInterval(length + 60))
        entries.withLock { table in
            table[user.id.uuidString + "/" + player] = entry
            let mine = table.filter { $0.value.userId == user.id }.sorted { $0.value.startedAt > $1.value.startedAt }
            for (key, _) in mine.dropFirst(Self.maxPlayersPerUser) { table[key] = nil }
        }
    }

    /// Entries still playing at `time`, most recent first.
    public func current(at time: Date) -> [Entry] {
        entries.withLock { table in
            table = table.filter { $0.value.endsAt > time }
            return table.values.sorted { $0.startedAt != $1.startedAt ? $0.startedAt > $1.startedAt : $0.player < $1.player }
        }
    }
}
