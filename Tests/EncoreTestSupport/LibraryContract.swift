import EncoreCore
import Foundation
import Testing

// The listener library and browsing views: part of ``DataStoreContract``.
extension DataStoreContract {
    /// A stored track made ready (playable) with `durationMs` of audio.
    public static func readyTrack(_ store: any DataStore, album: Album, title: String = "Track", durationMs: Int = 61_000) async throws -> Track {
        let stored = try await store.tracks.insertTrack(track(album: album, title: title))
        return try await store.tracks.updateTrack(id: stored.id) { track in
            track.media = media(for: track)
            track.audio = audio
            track.durationMs = durationMs
            track.status = .ready
            track.sourceKey = nil
        }.after
    }

    public static func starsAndRatingsFollowTheirItems(_ store: any DataStore) async throws {
        let (owner, artist, album) = try await seed(store)
        let listener = user(role: .listener)
        try await store.accounts.insertUser(listener, passwordHash: "h")
        let song = try await readyTrack(store, album: album)
        let items = [LibraryItem(.track, song.id), LibraryItem(.album, album.id), LibraryItem(.artist, artist.id)]
        for (offset, item) in items.enumerated() {
            try await store.listeners.setStarred(true, item: item, userId: listener.id, at: now.addingTimeInterval(Double(offset)))
        }
        // Starring again keeps the first date.
        try await store.listeners.setStarred(true, item: items[0], userId: listener.id, at: now.addingTimeInterval(100))
        let dates = try await store.listeners.starDates(userId: listener.id, ids: [song.id, album.id, artist.id, UUID()])
        #expect(dates == [song.id: now, album.id: now.addingTimeInterval(1), artist.id: now.addingTimeInterval(2)])
        #expect(try await store.listeners.starDates(userId: owner.id, ids: [song.id]).isEmpty)  // stars are per user
        let albums = try await store.listeners.stars(userId: listener.id, kind: .album, page: try PageRequest())
        #expect(albums.items == [Star(item: items[1], starredAt: now.addingTimeInterval(1))])
        #expect(
            await conflictCode { try await store.listeners.setStarred(true, item: LibraryItem(.track, UUID()), userId: listener.id, at: now) }
                == "reference_missing")
        try await store.listeners.setStarred(false, item: items[2], userId: listener.id, at: now)
        try await store.listeners.setStarred(false, item: items[2], userId: listener.id, at: now)  // unstarring twice is fine
        #expect(try await store.listeners.stars(userId: listener.id, kind: .artist, page: try PageRequest()).items.isEmpty)

        try await store.listeners.setRating(4, item: items[0], userId: listener.id)
        try await store.listeners.setRating(2, item: items[0], userId: listener.id)  // replaces
        try await store.listeners.setRating(5, item: items[1], userId: listener.id)
        #expect(try await store.listeners.ratings(userId: listener.id, ids: [song.id, album.id]) == [song.id: 2, album.id: 5])
        try await store.listeners.setRating(0, item: items[1], userId: listener.id)
        #expect(try await store.listeners.ratings(userId: listener.id, ids: [song.id, album.id]) == [song.id: 2])
        #expect(
            await conflictCode { try await store.listeners.setRating(3, item: LibraryItem(.album, UUID()), userId: listener.id) }
                == "reference_missing")

        // Deleting the album takes its star and its tracks' stars and ratings with it.
        _ = try await store.catalog.deleteAlbum(id: album.id)
        #expect(try await store.listeners.starDates(userId: listener.id, ids: [song.id, album.id]).isEmpty)
        #expect(try await store.listeners.ratings(userId: listener.id, ids: [song.id]).isEmpty)
        #expect(try await store.listeners.stars(userId: listener.id, kind: .track, page: try PageRequest()).items.isEmpty)
    }

    public static func playQueuesRoundTripWithoutDeletedTracks(_ store: any DataStore) async throws {
        let (owner, _, album) = try await seed(store)
        #expect(try await store.listeners.playQueue(userId: owner.id) == nil)
        let songs = [
            try await readyTrack(store, album: album, title: "One"), try await readyTrack(store, album: album, title: "Two"),
            try await readyTrack(store, album: album, title: "Three"),
        ]
        let queue = PlayQueue(
            userId: owner.id, trackIds: [songs[2].id, songs[0].id, songs[2].id], currentTrackId: songs[0].id, positionMs: 12_345,
            changedAt: now, changedBy: "DSub")
        try await store.listeners.savePlayQueue(queue)
        #expect(try await store.listeners.playQueue(userId: owner.id) == queue)  // order and repeats kept
        var replaced = queue
        replaced.trackIds = [songs[1].id, songs[0].id]
        replaced.changedBy = "Symfonium"
        try await store.listeners.savePlayQueue(replaced)
        #expect(try await store.listeners.playQueue(userId: owner.id) == replaced)
        var unknown = replaced
        unknown.trackIds.append(UUID())
        #expect(await conflictCode { try await store.listeners.savePlayQueue(unknown) } == "reference_missing")
        #expect(try await store.listeners.playQueue(userId: owner.id) == replaced)  // a refused save changes nothing
        _ = try await store.tracks.deleteTrack(id: songs[0].id)
        let after = try #require(try await store.listeners.playQueue(userId: owner.id))
        #expect(after.trackIds == [songs[1].id])
        #expect(after.currentTrackId == nil)
        _ = try await store.accounts.deleteUser(id: owner.id)
        #expect(try await store.listeners.playQueue(userId: owner.id) == nil)
    }

    public static func browsingListsOnlyPlayableMusic(_ store: any DataStore) async throws {
        let owner = user()
        try await store.accounts.insertUser(owner, passwordHash: "h")
        let listener = user(role: .listener)
        try await store.accounts.insertUser(listener, passwordHash: "h")
        let bjork = artist(owner: owner.id, name: "björk")
        let sigur = artist(owner: owner.id, name: "Sigur Rós")
        let silent = artist(owner: owner.id, name: "Aaa Silent")  // only an album still processing
        for profile in [bjork, sigur, silent] { try await store.catalog.insertArtist(profile) }
        func album(_ artist: Artist, _ title: String, genre: String?, date: String?, age: Double) -> Album {
            Album(
                id: UUID(), artistId: artist.id, title: title, genre: genre, releaseDate: date, createdAt: now.addingTimeInterval(age),
                updatedAt: now)
        }
        let debut = album(bjork, "Debut", genre: "Electronic", date: "1993-07-05", age: 1)
        let post = album(bjork, "post", genre: "electronic", date: "1995-06-13", age: 2)
        let agaetis = album(sigur, "Ágætis byrjun", genre: "Post-Rock", date: "1999-06-12", age: 3)
        let pending = album(silent, "Unheard", genre: "Noise", date: "2001-01-01", age: 4)
        for record in [debut, post, agaetis, pending] { try await store.catalog.insertAlbum(record) }
        let human = try await readyTrack(store, album: debut, title: "Human Behaviour", durationMs: 10_000)
        let crying = try await readyTrack(store, album: debut, title: "Crying", durationMs: 20_000)
        _ = try await store.tracks.insertTrack(track(album: debut, title: "Still processing"))
        let army = try await readyTrack(store, album: post, title: "Army of Me", durationMs: 30_000)
        let svefn = try await readyTrack(store, album: agaetis, title: "Svefn-g-englar", durationMs: 40_000)
        _ = try await store.tracks.insertTrack(track(album: pending, title: "Nothing yet"))
        let everything = try await store.browse.albums(.newest, page: try PageRequest())
        #expect(everything.items.map(\.album.id) == [agaetis.id, post.id, debut.id])
        let debutSummary = try #require(everything.items.last)
        #expect(debutSummary.songCount == 2)
        #expect(debutSummary.durationMs == 30_000)
        #expect(debutSummary.artistName == "björk")
        #expect(try await store.browse.albums(.alphabeticalByName, page: try PageRequest()).items.map(\.album.id) == [agaetis.id, debut.id, post.id])
        #expect(
            try await store.browse.albums(.alphabeticalByArtist, page: try PageRequest()).items.map(\.album.id) == [debut.id, post.id, agaetis.id])
        #expect(try await store.browse.albums(.byGenre("ELECTRONIC"), page: try PageRequest()).items.map(\.album.id) == [debut.id, post.id])
        #expect(try await store.browse.albums(.byYear(from: 1994, to: 2000), page: try PageRequest()).items.map(\.album.id) == [post.id, agaetis.id])
        #expect(
            try await store.browse.albums(.byYear(from: 2000, to: 1990), page: try PageRequest()).items.map(\.album.id) == [
                agaetis.id, post.id, debut.id,
            ])
        #expect(try await store.browse.albums(.byArtist(bjork.id), page: try PageRequest()).items.map(\.album.id) == [debut.id, post.id])
        #expect(try await store.browse.albums(.byArtist(silent.id), page: try PageRequest()).items.isEmpty)
        let sample = try await store.browse.albums(.random, page: try PageRequest(limit: 2))
        #expect(sample.items.count == 2)
        #expect(Set(sample.items.map(\.album.id)).isSubset(of: [debut.id, post.id, agaetis.id]))
        let paged = try await store.browse.albums(.alphabeticalByName, page: try PageRequest(limit: 2, offset: 2))
        #expect(paged.items.map(\.album.id) == [post.id])
        #expect(paged.nextOffset == nil)

        // Plays: frequent counts counted plays of every track; recent is the user's own.
        #expect(try await store.browse.albums(.frequent, page: try PageRequest()).items.isEmpty)
        for (index, song) in [army, army, svefn].enumerated() {
            _ = try await store.plays.recordPlay(
                Play(
                    id: UUID(), userId: listener.id, trackId: song.id, playedAt: now.addingTimeInterval(Double(index)), msPlayed: 40_000, counts: true
                ))
        }
        _ = try await store.plays.recordPlay(
            Play(id: UUID(), userId: owner.id, trackId: human.id, playedAt: now.addingTimeInterval(9), msPlayed: 1_000, counts: false))
        let frequent = try await store.browse.albums(.frequent, page: try PageRequest())
        #expect(frequent.items.map(\.album.id) == [post.id, agaetis.id])
        #expect(frequent.items.map(\.playCount) == [2, 1])
        #expect(try await store.browse.albums(.recent(userId: listener.id), page: try PageRequest()).items.map(\.album.id) == [agaetis.id, post.id])
        #expect(try await store.browse.albums(.recent(userId: owner.id), page: try PageRequest()).items.map(\.album.id) == [debut.id])
        #expect(try await store.browse.playCounts(trackIds: [army.id, svefn.id, human.id]) == [army.id: 2, svefn.id: 1, human.id: 0])
        #expect(try await store.browse.tracks(.mostPlayed, page: try PageRequest()).items.map(\.id) == [army.id, svefn.id])
        #expect(try await store.browse.tracks(.mostPlayed, page: try PageRequest(limit: 1)).items.map(\.id) == [army.id])

        // Stars.
        try await store.listeners.setStarred(true, item: LibraryItem(.album, debut.id), userId: listener.id, at: now)
        try await store.listeners.setStarred(true, item: LibraryItem(.album, agaetis.id), userId: listener.id, at: now.addingTimeInterval(1))
        try await store.listeners.setStarred(true, item: LibraryItem(.album, pending.id), userId: listener.id, at: now.addingTimeInterval(2))
        try await store.listeners.setStarred(true, item: LibraryItem(.track, crying.id), userId: listener.id, at: now)
        try await store.listeners.setStarred(true, item: LibraryItem(.artist, sigur.id), userId: listener.id, at: now)
        #expect(
            try await store.browse.albums(.starred(userId: listener.id), page: try PageRequest()).items.map(\.album.id) == [agaetis.id, debut.id])
        #expect(try await store.browse.albums(.starred(userId: owner.id), page: try PageRequest()).items.isEmpty)
        #expect(try await store.browse.tracks(.starred(userId: listener.id), page: try PageRequest()).items.map(\.id) == [crying.id])
        #expect(try await store.browse.artists(starredBy: listener.id, page: try PageRequest()).items.map(\.artist.id) == [sigur.id])
        try await store.listeners.setRating(3, item: LibraryItem(.album, post.id), userId: listener.id)
        try await store.listeners.setRating(5, item: LibraryItem(.album, agaetis.id), userId: listener.id)
        try await store.listeners.setRating(3, item: LibraryItem(.album, debut.id), userId: listener.id)
        try await store.listeners.setRating(4, item: LibraryItem(.track, human.id), userId: listener.id)  // a song's rating is not its album's
        #expect(
            try await store.browse.albums(.highest(userId: listener.id), page: try PageRequest()).items.map(\.album.id) == [
                agaetis.id, debut.id, post.id,
            ])
        #expect(try await store.browse.albums(.highest(userId: owner.id), page: try PageRequest()).items.isEmpty)

        // Artists with music, by name; album counts count albums with a playable track.
        let artists = try await store.browse.artists(starredBy: nil, page: try PageRequest())
        #expect(artists.items.map(\.artist.id) == [bjork.id, sigur.id])
        #expect(artists.items.map(\.albumCount) == [2, 1])
        #expect(try await store.browse.allArtists() == artists.items)
        #expect(try await store.browse.artistSummaries(ids: [sigur.id, silent.id]).mapValues(\.albumCount) == [sigur.id: 1])
        #expect(try await store.browse.albumSummaries(ids: [post.id, pending.id, UUID()]).mapValues(\.songCount) == [post.id: 1])

        // Genres are the albums', merged across case.
        let genres = try await store.browse.genres()
        #expect(genres.map(\.albumCount) == [2, 1])
        #expect(genres.map(\.songCount) == [3, 1])
        #expect(genres.map { $0.name.lowercased() } == ["electronic", "post-rock"])

        // Tracks: all playable ones page in a stable order; random honours its filters.
        var seen: [UUID] = []
        var offset: Int? = 0
        while let next = offset {
            let page = try await store.browse.tracks(.all, page: try PageRequest(limit: 3, offset: next))
            seen += page.items.map(\.id)
            offset = page.nextOffset
        }
        #expect(seen.sorted { $0.uuidString < $1.uuidString } == [human.id, crying.id, army.id, svefn.id].sorted { $0.uuidString < $1.uuidString })
        #expect(Set(seen).count == seen.count)
        let random = try await store.browse.tracks(.random(genre: "electronic", fromYear: 1994, toYear: nil), page: try PageRequest())
        #expect(random.items.map(\.id) == [army.id])
        #expect(try await store.browse.tracks(.random(genre: nil, fromYear: nil, toYear: 1998), page: try PageRequest()).items.count == 3)
        #expect(try await store.browse.tracks(.byGenre("Electronic"), page: try PageRequest()).items.map(\.id) == [human.id, crying.id, army.id])
    }
}
