import EncoreCore
import Foundation

/// A star or rating's key: whose, and of what.
struct ListenerMark: Hashable, Sendable {
    var userId: UUID
    var item: LibraryItem
}

extension MemoryState {
    /// Whether the item still exists. Stars and ratings of deleted items (or users) are left in the fake's
    /// state but never seen: from outside, they went with the item, as SQLite's foreign keys make them.
    func exists(_ item: LibraryItem) -> Bool {
        switch item.kind {
        case .artist: artists[item.id] != nil
        case .album: albums[item.id] != nil
        case .track: tracks[item.id] != nil
        }
    }

    func visible(_ mark: ListenerMark) -> Bool { users[mark.userId] != nil && exists(mark.item) }

    var playable: [Track] { tracks.values.filter { $0.status == .ready } }

    func playCount(_ trackId: UUID) -> Int { plays.values.filter { $0.trackId == trackId && $0.counts }.count }

    func albumSummary(_ album: Album) -> AlbumSummary? {
        let songs = playable.filter { $0.albumId == album.id }
        guard !songs.isEmpty, let artist = artists[album.artistId] else { return nil }
        let allTracks = tracks.values.filter { $0.albumId == album.id }.map(\.id)
        return AlbumSummary(
            album: album, artistName: artist.name, songCount: songs.count, durationMs: songs.map(\.durationMs).reduce(0, +),
            playCount: allTracks.map(playCount).reduce(0, +))
    }

    func artistSummary(_ artist: Artist) -> ArtistSummary? {
        let albumIds = Set(playable.filter { $0.artistId == artist.id }.map(\.albumId))
        return albumIds.isEmpty ? nil : ArtistSummary(artist: artist, albumCount: albumIds.count)
    }

    func starredAt(_ userId: UUID, _ item: LibraryItem) -> (starredAt: Date, sequence: Int)? {
        let mark = ListenerMark(userId: userId, item: item)
        return visible(mark) ? stars[mark] : nil
    }
}

/// Newest star first; the same instant by the later star first.
private func newerStar(_ lhs: (starredAt: Date, sequence: Int), _ rhs: (starredAt: Date, sequence: Int)) -> Bool {
    lhs.starredAt != rhs.starredAt ? lhs.starredAt > rhs.starredAt : lhs.sequence > rhs.sequence
}

private func byText(_ lhs: String, _ rhs: String, _ lhsId: UUID, _ rhsId: UUID) -> Bool {
    switch String.libraryOrder(lhs, rhs) {
    case .orderedAscending: true
    case .orderedDescending: false
    case .orderedSame: lhsId.uuidString < rhsId.uuidString
    }
}

struct MemoryListeners: ListenerRepository {
    let access: StateAccess

    func setStarred(_ starred: Bool, item: LibraryItem, userId: UUID, at time: Date) async throws {
        try await access.write { state in
            let mark = ListenerMark(userId: userId, item: item)
            guard starred else {
                state.stars[mark] = nil
                return
            }
            guard state.visible(mark) else { throw missingReference }
            if state.stars[mark] == nil {
                state.nextStarSequence += 1
                state.stars[mark] = (time, state.nextStarSequence)
            }
        }
    }

    func stars(userId: UUID, kind: LibraryItemKind, page: PageRequest) async throws -> Page<Star> {
        try access.read { state in
            let mine = state.stars.filter { $0.key.userId == userId && $0.key.item.kind == kind && state.visible($0.key) }
                .sorted { newerStar($0.value, $1.value) }
            return state.page(mine.map { Star(item: $0.key.item, starredAt: $0.value.starredAt) }, page)
        }
    }

    func starDates(userId: UUID, ids: [UUID]) async throws -> [UUID: Date] {
        try access.read { state in
            var dates: [UUID: Date] = [:]
            for (mark, star) in state.stars where mark.userId == userId && ids.contains(mark.item.id) && state.visible(mark) {
                dates[mark.item.id] = star.starredAt
            }
            return dates
        }
    }

    func setRating(_ rating: Int, item: LibraryItem, userId: UUID) async throws {
        try await access.write { state in
            let mark = ListenerMark(userId: userId, item: item)
            guard rating > 0 else {
                state.ratings[mark] = nil
                return
            }
            guard state.visible(mark) else { throw missingReference }
            state.ratings[mark] = rating
        }
    }

    func ratings(userId: UUID, ids: [UUID]) async throws -> [UUID: Int] {
        try access.read { state in
            var ratings: [UUID: Int] = [:]
            for (mark, rating) in state.ratings where mark.userId == userId && ids.contains(mark.item.id) && state.visible(mark) {
                ratings[mark.item.id] = rating
            }
            return ratings
        }
    }

    func savePlayQueue(_ queue: PlayQueue) async throws {
        try await access.write { state in
            guard state.users[queue.userId] != nil, queue.trackIds.allSatisfy({ state.tracks[$0] != nil }) else {
                throw EncoreError(.referenceMissing, "A track of the queue does not exist.")
            }
            state.playQueues[queue.userId] = queue
        }
    }

    func playQueue(userId: UUID) async throws -> PlayQueue? {
        try access.read { state in
            guard state.users[userId] != nil, var queue = state.playQueues[userId] else { return nil }
            queue.trackIds = queue.trackIds.filter { state.tracks[$0] != nil }
            if let current = queue.currentTrackId, state.tracks[current] == nil { queue.currentTrackId = nil }
            return queue
        }
    }
}

struct MemoryBrowse: BrowseRepository {
    let access: StateAccess

    func albums(_ listing: AlbumListing, page: PageRequest) async throws -> Page<AlbumSummary> {
        try access.read { state in
            var summaries = state.albums.values.compactMap(state.albumSummary)
            let byTitle: (AlbumSummary, AlbumSummary) -> Bool = { byText($0.album.title, $1.album.title, $0.album.id, $1.album.id) }
            switch listing {
            case .newest:
                summaries.sort {
                    $0.album.createdAt != $1.album.createdAt
                        ? $0.album.createdAt > $1.album.createdAt : $0.album.id.uuidString < $1.album.id.uuidString
                }
            case .alphabeticalByName:
                summaries.sort(by: byTitle)
            case .alphabeticalByArtist:
                summaries.sort { lhs, rhs in
                    if String.libraryOrder(lhs.artistName, rhs.artistName) != .orderedSame {
                        return String.libraryOrder(lhs.artistName, rhs.artistName) == .orderedAscending
                    }
                    if lhs.album.releaseDate != rhs.album.releaseDate { return (lhs.album.releaseDate ?? "") < (rhs.album.releaseDate ?? "") }
                    return byTitle(lhs, rhs)
                }
            case .random:
                summaries.shuffle()
            case .frequent:
                summaries = summaries.filter { $0.playCount > 0 }
                summaries.sort { $0.playCount != $1.playCount ? $0.playCount > $1.playCount : byTitle($0, $1) }
            case .recent(let userId):
                func lastPlayed(_ summary: AlbumSummary) -> Date? {
                    state.plays.values.filter { $0.userId == userId && state.tracks[$0.trackId]?.albumId == summary.album.id }.map(\.playedAt).max()
                }
                summaries = summaries.filter { lastPlayed($0) != nil }
                summaries.sort { lhs, rhs in
                    let (left, right) = (lastPlayed(lhs)!, lastPlayed(rhs)!)
                    return left != right ? left > right : lhs.album.id.uuidString < rhs.album.id.uuidString
                }
            case .starred(let userId):
                summaries = summaries.filter { state.starredAt(userId, LibraryItem(.album, $0.album.id)) != nil }
                summaries.sort {
                    newerStar(state.starredAt(userId, LibraryItem(.album, $0.album.id))!, state.starredAt(userId, LibraryItem(.album, $1.album.id))!)
                }
            case .highest(let userId):
                func rating(_ summary: AlbumSummary) -> Int? {
                    let mark = ListenerMark(userId: userId, item: LibraryItem(.album, summary.album.id))
                    return state.visible(mark) ? state.ratings[mark] : nil
                }
                summaries = summaries.filter { rating($0) != nil }
                summaries.sort { rating($0)! != rating($1)! ? rating($0)! > rating($1)! : byTitle($0, $1) }
            case .byYear(let from, let to):
                summaries = summaries.filter { ($0.album.releaseYear).map { (min(from, to)...max(from, to)).contains($0) } ?? false }
                summaries.sort { lhs, rhs in
                    let (left, right) = (lhs.album.releaseDate ?? "", rhs.album.releaseDate ?? "")
                    if left != right { return from <= to ? left < right : left > right }
                    return lhs.album.id.uuidString < rhs.album.id.uuidString
                }
            case .byGenre(let genre):
                summaries = summaries.filter { $0.album.genre?.lowercased() == genre.lowercased() }
                summaries.sort(by: byTitle)
            case .byArtist(let artistId):
                summaries = summaries.filter { $0.album.artistId == artistId }
                summaries.sort { lhs, rhs in
                    switch (lhs.album.releaseDate, rhs.album.releaseDate) {
                    case (let left?, let right?) where left != right: return left < right
                    case (.some, nil): return true
                    case (nil, .some): return false
                    default:
                        return lhs.album.createdAt != rhs.album.createdAt
                            ? lhs.album.createdAt < rhs.album.createdAt : lhs.album.id.uuidString < rhs.album.id.uuidString
                    }
                }
            }
            return state.page(summaries, page)
        }
    }

    func albumSummaries(ids: [UUID]) async throws -> [UUID: AlbumSummary] {
        try access.read { state in
            var found: [UUID: AlbumSummary] = [:]
            for id in ids { if let album = state.albums[id], let summary = state.albumSummary(album) { found[id] = summary } }
            return found
        }
    }

    func artists(starredBy userId: UUID?, page: PageRequest) async throws -> Page<ArtistSummary> {
        try access.read { state in
            var summaries = state.artists.values.compactMap(state.artistSummary)
            if let userId {
                summaries = summaries.filter { state.starredAt(userId, LibraryItem(.artist, $0.artist.id)) != nil }
                summaries.sort {
                    newerStar(
                        state.starredAt(userId, LibraryItem(.artist, $0.artist.id))!, state.starredAt(userId, LibraryItem(.artist, $1.artist.id))!)
                }
            } else {
                summaries.sort { byText($0.artist.name, $1.artist.name, $0.artist.id, $1.artist.id) }
            }
            return state.page(summaries, page)
        }
    }

    func allArtists() async throws -> [ArtistSummary] {
        try access.read { state in
            state.artists.values.compactMap(state.artistSummary).sorted { byText($0.artist.name, $1.artist.name, $0.artist.id, $1.artist.id) }
        }
    }

    func artistSummaries(ids: [UUID]) async throws -> [UUID: ArtistSummary] {
        try access.read { state in
            var found: [UUID: ArtistSummary] = [:]
            for id in ids { if let artist = state.artists[id], let summary = state.artistSummary(artist) { found[id] = summary } }
            return found
        }
    }

    func tracks(_ listing: TrackListing, page: PageRequest) async throws -> Page<Track> {
        try access.read { state in
            var songs = state.playable
            func album(_ track: Track) -> Album? { state.albums[track.albumId] }
            switch listing {
            case .all:
                songs.sort { $0.id.uuidString < $1.id.uuidString }
            case .random(let genre, let fromYear, let toYear):
                songs = songs.filter { track in
                    let album = album(track)
                    if let genre, album?.genre?.lowercased() != genre.lowercased() { return false }
                    if let fromYear, (album?.releaseYear ?? Int.min) < fromYear { return false }
                    if let toYear, (album?.releaseYear ?? Int.max) > toYear { return false }
                    return true
                }
                songs.shuffle()
            case .byGenre(let genre):
                songs = songs.filter { album($0)?.genre?.lowercased() == genre.lowercased() }
                songs.sort { lhs, rhs in
                    let (left, right) = (album(lhs)!, album(rhs)!)
                    if left.id != right.id { return byText(left.title, right.title, left.id, right.id) }
                    return lhs.trackNumber < rhs.trackNumber
                }
            case .starred(let userId):
                songs = songs.filter { state.starredAt(userId, LibraryItem(.track, $0.id)) != nil }
                songs.sort { newerStar(state.starredAt(userId, LibraryItem(.track, $0.id))!, state.starredAt(userId, LibraryItem(.track, $1.id))!) }
            case .mostPlayed:
                songs = songs.filter { state.playCount($0.id) > 0 }
                songs.sort { (state.playCount($1.id), $0.id.uuidString) < (state.playCount($0.id), $1.id.uuidString) }
            }
            return state.page(songs, page)
        }
    }

    func genres() async throws -> [GenreSummary] {
        try access.read { state in
            var byGenre: [String: (name: String, albums: Set<UUID>, songs: Int)] = [:]
            for track in state.playable {
                guard let genre = state.albums[track.albumId]?.genre, !genre.isEmpty else { continue }
                var entry = byGenre[genre.lowercased()] ?? (genre, [], 0)
                entry.name = min(entry.name, genre)
                entry.albums.insert(track.albumId)
                entry.songs += 1
                byGenre[genre.lowercased()] = entry
            }
            return byGenre.sorted { $0.key < $1.key }.map {
                GenreSummary(name: $0.value.name, albumCount: $0.value.albums.count, songCount: $0.value.songs)
            }
        }
    }

    func playCounts(trackIds: [UUID]) async throws -> [UUID: Int] {
        try access.read { state in Dictionary(trackIds.map { ($0, state.playCount($0)) }, uniquingKeysWith: { first, _ in first }) }
    }
}
