import Crypto
import EncoreCore
import Foundation
import Hummingbird

/// Every Subsonic method Encore answers, by name.
struct SubsonicEndpoints: Sendable {
    let services: EncoreServices

    /// Most entries one list request returns (Symfonium syncs a library 500 songs at a time).
    static let maxListSize = 500

    var all: [String: SubsonicEndpoint] {
        var table: [String: SubsonicEndpoint] = [:]
        func add(_ name: String, credentials: Bool = true, _ run: @escaping @Sendable (SubsonicCall) async throws -> SubsonicObject) {
            table[name] = SubsonicEndpoint(needsCredentials: credentials, readOnly: !Self.writing.contains(name)) { call in
                .document(try await run(call))
            }
        }
        func media(_ name: String, _ run: @escaping @Sendable (SubsonicCall) async throws -> Response) {
            table[name] = SubsonicEndpoint { call in .response(try await run(call)) }
        }
        // System.
        add("ping") { _ in SubsonicObject() }
        add("getLicense") { _ in SubsonicObject(["license": .object(SubsonicObject(["valid": true, "email": "", "licenseExpires": nil]))]) }
        add("getOpenSubsonicExtensions", credentials: false) { _ in Self.extensions }
        add("getUser", getUser)
        add("getMusicFolders") { _ in
            SubsonicObject(["musicFolders": .object(SubsonicObject(["musicFolder": .list([SubsonicObject(["id": 1, "name": "Music"])])]))])
        }
        add("getScanStatus") { _ in Self.scanStatus }
        add("startScan") { _ in Self.scanStatus }
        // Browsing.
        add("getArtists", getArtists)
        add("getIndexes", getIndexes)
        add("getArtist", getArtist)
        add("getAlbum", getAlbum)
        add("getSong", getSong)
        add("getMusicDirectory", getMusicDirectory)
        add("getGenres", getGenres)
        add("getArtistInfo", { try await artistInfo($0, element: "artistInfo") })
        add("getArtistInfo2", { try await artistInfo($0, element: "artistInfo2") })
        add("getAlbumInfo", { try await albumInfo($0) })
        add("getAlbumInfo2", { try await albumInfo($0) })
        // Lists.
        add("getAlbumList", { try await albumList($0, element: "albumList", directories: true) })
        add("getAlbumList2", { try await albumList($0, element: "albumList2", directories: false) })
        add("getRandomSongs", getRandomSongs)
        add("getSongsByGenre", getSongsByGenre)
        add("getStarred", { try await starred($0, element: "starred", directories: true) })
        add("getStarred2", { try await starred($0, element: "starred2", directories: false) })
        add("getNowPlaying", getNowPlaying)
        // Search.
        add("search2", { try await search($0, element: "searchResult2", directories: true) })
        add("search3", { try await search($0, element: "searchResult3", directories: false) })
        // Playlists.
        add("getPlaylists", getPlaylists)
        add("getPlaylist", getPlaylist)
        add("createPlaylist", createPlaylist)
        add("updatePlaylist", updatePlaylist)
        add("deletePlaylist", deletePlaylist)
        // Media.
        media("stream", stream)
        media("download", download)
        media("getCoverArt", getCoverArt)
        add("getLyrics") { _ in SubsonicObject(["lyrics": .object(SubsonicObject())]) }
        add("getLyricsBySongId", getLyricsBySongId)
        // Annotation.
        add("star", { try await star($0, starred: true) })
        add("unstar", { try await star($0, starred: false) })
        add("setRating", setRating)
        add("scrobble", scrobble)
        // Queues and bookmarks.
        add("getPlayQueue", getPlayQueue)
        add("savePlayQueue", savePlayQueue)
        add("getBookmarks") { _ in SubsonicObject(["bookmarks": .object(SubsonicObject())]) }
        // Apps probe these on start; Encore keeps none of what they list, so they answer empty lists
        // rather than an error that some apps take for a broken server.
        for (name, element) in [
            ("getTopSongs", "topSongs"), ("getSimilarSongs", "similarSongs"), ("getSimilarSongs2", "similarSongs2"),
            ("getPodcasts", "podcasts"), ("getInternetRadioStations", "internetRadioStations"), ("getShares", "shares"),
        ] {
            add(name) { _ in SubsonicObject([element: .object(SubsonicObject())]) }
        }
        return table
    }

    /// The methods that change something.
    static let writing: Set<String> = [
        "star", "unstar", "setRating", "scrobble", "createPlaylist", "updatePlaylist", "deletePlaylist", "savePlayQueue", "startScan",
    ]

    /// The OpenSubsonic extensions implemented, each at version 1. (`transcodeOffset` is not: Encore serves
    /// stored renditions and does not transcode on the fly, so `timeOffset` is ignored.)
    static let extensions = SubsonicObject([
        "openSubsonicExtensions": .list(
            ["apiKeyAuthentication", "formPost", "songLyrics"].map { SubsonicObject(["name": .string($0), "versions": .numbers([1])]) })
    ])

    /// Encore has no library scan: uploads are processed as they arrive.
    static let scanStatus = SubsonicObject(["scanStatus": .object(SubsonicObject(["scanning": false]))])

    func entries(_ call: SubsonicCall) throws -> SubsonicEntries { SubsonicEntries(services: services, principal: try call.principal) }

    // MARK: System

    @Sendable func getUser(_ call: SubsonicCall) async throws -> SubsonicObject {
        let caller = try call.user
        let username = try call.parameters.require("username")
        guard username.lowercased() == caller.email.lowercased() else {
            throw EncoreError(.forbidden, "Only your own account can be read here.")
        }
        return SubsonicObject([
            "user": .object(
                SubsonicObject([
                    "username": .string(caller.email), "email": .string(caller.email), "scrobblingEnabled": true,
                    "adminRole": .bool(caller.role == .admin),
                    "settingsRole": true, "downloadRole": true, "uploadRole": .bool(caller.role != .listener), "playlistRole": true,
                    "coverArtRole": .bool(caller.role != .listener), "commentRole": false, "podcastRole": false, "streamRole": true,
                    "jukeboxRole": false, "shareRole": false, "videoConversionRole": false, "folder": .list([]),
                ]))
        ])
    }

    // MARK: Browsing

    @Sendable func getArtists(_ call: SubsonicCall) async throws -> SubsonicObject {
        let view = try entries(call)
        let index = try await view.indexed(try await services.library.allArtists(), entry: view.artist)
        return SubsonicObject([
            "artists": .object(
                SubsonicObject(["ignoredArticles": .string(SubsonicEntries.ignoredArticles.joined(separator: " ")), "index": .list(index)]))
        ])
    }

    @Sendable func getIndexes(_ call: SubsonicCall) async throws -> SubsonicObject {
        let view = try entries(call)
        let index = try await view.indexed(try await services.library.allArtists()) { summary, marks in
            var entry = SubsonicObject(["id": .string(summary.artist.id.subsonic), "name": .string(summary.artist.name)])
            entry["starred"] = marks.starred[summary.artist.id].map { .date($0) }
            return entry
        }
        let now = Int(services.environment.now().timeIntervalSince1970 * 1000)
        return SubsonicObject([
            "indexes": .object(
                SubsonicObject([
                    "lastModified": .int(now), "ignoredArticles": .string(SubsonicEntries.ignoredArticles.joined(separator: " ")),
                    "index": .list(index),
                ]))
        ])
    }

    @Sendable func getArtist(_ call: SubsonicCall) async throws -> SubsonicObject {
        let view = try entries(call)
        let id = try call.parameters.id()
        let summary = try await services.library.artist(id)
        var artist = view.artist(summary, marks: try await services.library.marks(try call.principal, ids: [id]))
        artist["album"] = .list(
            try await view.albums(try await Page.collect(limit: Self.maxListSize) { try await services.library.albums(.byArtist(id), page: $0) }))
        return SubsonicObject(["artist": .object(artist)])
    }

    @Sendable func getAlbum(_ call: SubsonicCall) async throws -> SubsonicObject {
        let view = try entries(call)
        let id = try call.parameters.id()
        let summary = try await services.library.album(id)
        var album = view.album(summary, marks: try await services.library.marks(try call.principal, ids: [id]))
        album["song"] = .list(try await view.songs(try await services.library.albumTracks(id)))
        return SubsonicObject(["album": .object(album)])
    }

    @Sendable func getSong(_ call: SubsonicCall) async throws -> SubsonicObject {
        let track = try await services.library.playableTrack(try call.parameters.id())
        return SubsonicObject(["song": .object(try await entries(call).song(track))])
    }

    /// DSub's folder view: an artist's folder holds its albums, an album's folder its songs.
    @Sendable func getMusicDirectory(_ call: SubsonicCall) async throws -> SubsonicObject {
        let view = try entries(call)
        let id = try call.parameters.id()
        let marks = try await services.library.marks(try call.principal, ids: [id])
        var directory: SubsonicObject
        if let artist = try await services.library.artistSummaries(ids: [id])[id] {
            directory = SubsonicObject(["id": .string(id.subsonic), "name": .string(artist.artist.name)])
            let albums = try await Page.collect(limit: Self.maxListSize) { try await services.library.albums(.byArtist(id), page: $0) }
            directory["starred"] = marks.starred[id].map { .date($0) }
            directory["child"] = .list(try await view.albumDirectories(albums))
        } else if let album = try await services.library.albumSummaries(ids: [id])[id] {
            directory = SubsonicObject([
                "id": .string(id.subsonic), "parent": .string(album.album.artistId.subsonic), "name": .string(album.album.title),
                "playCount": .int(album.playCount),
            ])
            directory["starred"] = marks.starred[id].map { .date($0) }
            directory["child"] = .list(try await view.songs(try await services.library.albumTracks(id)))
        } else {
            throw EncoreError(.notFound, "No artist or album with that id.")
        }
        return SubsonicObject(["directory": .object(directory)])
    }

    @Sendable func getGenres(_ call: SubsonicCall) async throws -> SubsonicObject {
        let genres = try await services.library.genres().map { genre in
            var entry = SubsonicObject(text: genre.name)
            entry["songCount"] = .int(genre.songCount)
            entry["albumCount"] = .int(genre.albumCount)
            return entry
        }
        return SubsonicObject(["genres": .object(SubsonicObject(["genre": .list(genres)]))])
    }

    @Sendable func artistInfo(_ call: SubsonicCall, element: String) async throws -> SubsonicObject {
        let artist = try await services.catalog.artist(try call.parameters.id())
        var info = SubsonicObject()
        if !artist.bio.isEmpty { info["biography"] = .object(SubsonicObject(text: artist.bio)) }
        return SubsonicObject([element: .object(info)])
    }

    @Sendable func albumInfo(_ call: SubsonicCall) async throws -> SubsonicObject {
        _ = try await services.catalog.album(try call.parameters.id())
        return SubsonicObject(["albumInfo": .object(SubsonicObject())])
    }

    // MARK: Lists

    @Sendable func albumList(_ call: SubsonicCall, element: String, directories: Bool) async throws -> SubsonicObject {
        let parameters = call.parameters
        let principal = try call.principal
        let listing: AlbumListing
        switch try parameters.require("type") {
        case "random": listing = .random
        case "newest": listing = .newest
        case "frequent": listing = .frequent
        case "recent": listing = .recent(userId: principal.userId)
        case "starred": listing = .starred(userId: principal.userId)
        case "highest": listing = .highest(userId: principal.userId)
        case "alphabeticalByName": listing = .alphabeticalByName
        case "alphabeticalByArtist": listing = .alphabeticalByArtist
        case "byYear":
            guard let from = try parameters.int("fromYear"), let to = try parameters.int("toYear") else {
                throw EncoreError(.missingParameter, "byYear needs fromYear and toYear.")
            }
            listing = .byYear(from: from, to: to)
        case "byGenre": listing = .byGenre(try parameters.require("genre"))
        case let other:
            throw EncoreError(.invalidParameter, "type \(other.prefix(30)) is not one of Subsonic's album list types.")
        }
        let size = try parameters.count("size", default: 10, max: Self.maxListSize, min: 1)
        let offset = try parameters.int("offset", default: 0, in: 0...PageRequest.maxOffset)
        // Each page of a random listing is its own draw: one draw, so that no album comes twice.
        let albums =
            listing == .random
            ? try await services.library.albums(.random, page: try PageRequest(limit: min(size, PageRequest.maxLimit))).items
            : try await Page.collect(limit: size, offset: offset) { try await services.library.albums(listing, page: $0) }
        let view = try entries(call)
        let list = directories ? try await view.albumDirectories(albums) : try await view.albums(albums)
        return SubsonicObject([element: .object(SubsonicObject(["album": .list(list)]))])
    }

    @Sendable func getRandomSongs(_ call: SubsonicCall) async throws -> SubsonicObject {
        let parameters = call.parameters
        let size = try parameters.count("size", default: 10, max: PageRequest.maxLimit, min: 1)
        let listing = TrackListing.random(
            genre: parameters.string("genre").flatMap { $0.isEmpty ? nil : $0 }, fromYear: try parameters.int("fromYear"),
            toYear: try parameters.int("toYear"))
        // Each page of a random listing is its own draw: one draw of the whole size avoids repeats.
        let tracks = try await services.library.tracks(listing, page: try PageRequest(limit: min(size, PageRequest.maxLimit))).items
        return SubsonicObject(["randomSongs": .object(SubsonicObject(["song": .list(try await entries(call).songs(tracks))]))])
    }

    @Sendable func getSongsByGenre(_ call: SubsonicCall) async throws -> SubsonicObject {
        let parameters = call.parameters
        let genre = try parameters.require("genre")
        let count = try parameters.count("count", default: 10, max: Self.maxListSize, min: 1)
        let offset = try parameters.int("offset", default: 0, in: 0...PageRequest.maxOffset)
        let tracks = try await Page.collect(limit: count, offset: offset) { try await services.library.tracks(.byGenre(genre), page: $0) }
        return SubsonicObject(["songsByGenre": .object(SubsonicObject(["song": .list(try await entries(call).songs(tracks))]))])
    }

    @Sendable func starred(_ call: SubsonicCall, element: String, directories: Bool) async throws -> SubsonicObject {
        let principal = try call.principal
        let view = try entries(call)
        let artists = try await Page.collect(limit: Self.maxListSize) { try await services.library.starredArtists(principal, page: $0) }
        let albums = try await Page.collect(limit: Self.maxListSize) {
            try await services.library.albums(.starred(userId: principal.userId), page: $0)
        }
        let songs = try await Page.collect(limit: Self.maxListSize) {
            try await services.library.tracks(.starred(userId: principal.userId), page: $0)
        }
        var result = SubsonicObject()
        result["artist"] = .list(try await view.artists(artists))
        result["album"] = .list(directories ? try await view.albumDirectories(albums) : try await view.albums(albums))
        result["song"] = .list(try await view.songs(songs))
        return SubsonicObject([element: .object(result)])
    }

    @Sendable func getNowPlaying(_ call: SubsonicCall) async throws -> SubsonicObject {
        let now = services.environment.now()
        let playing = services.library.nowPlaying.current(at: now)
        let tracks = try await services.environment.store.tracks.tracks(ids: playing.map(\.trackId))
        let shown = playing.compactMap { entry in tracks[entry.trackId].map { (entry, $0) } }  // tracks deleted since drop out
        // `songs` answers one entry per track, in order.
        let songs = try await entries(call).songs(shown.map(\.1))
        let list = zip(shown.map(\.0), songs).map { entry, song in
            var song = song
            // Display names, not emails: other listeners see this list.
            song["username"] = .string(entry.displayName)
            song["minutesAgo"] = .int(max(0, Int(now.timeIntervalSince(entry.startedAt) / 60)))
            song["playerId"] = 0
            song["playerName"] = .string(entry.player)
            return song
        }
        return SubsonicObject(["nowPlaying": .object(SubsonicObject(["entry": .list(list)]))])
    }

    // MARK: Search

    /// Encore's forgiving search. An empty query (or `""`, as Symfonium sends it) lists everything, paged by
    /// the offsets: that is how apps sync a whole library.
    @Sendable func search(_ call: SubsonicCall, element: String, directories: Bool) async throws -> SubsonicObject {
        let parameters = call.parameters
        var query = parameters.string("query") ?? ""
        if query == "\"\"" { query = "" }
        let artistCount = try parameters.count("artistCount", default: 20, max: Self.maxListSize)
        let artistOffset = try parameters.int("artistOffset", default: 0, in: 0...PageRequest.maxOffset)
        let albumCount = try parameters.count("albumCount", default: 20, max: Self.maxListSize)
        let albumOffset = try parameters.int("albumOffset", default: 0, in: 0...PageRequest.maxOffset)
        let songCount = try parameters.count("songCount", default: 20, max: Self.maxListSize)
        let songOffset = try parameters.int("songOffset", default: 0, in: 0...PageRequest.maxOffset)
        let library = services.library
        var artists: [ArtistSummary] = []
        var albums: [AlbumSummary] = []
        var songs: [Track] = []
        if query.trimmingCharacters(in: .whitespaces).isEmpty {
            if artistCount > 0 {
                artists = try await Page.collect(limit: artistCount, offset: artistOffset) { try await library.artists(page: $0) }
            }
            if albumCount > 0 {
                albums = try await Page.collect(limit: albumCount, offset: albumOffset) { try await library.albums(.alphabeticalByName, page: $0) }
            }
            if songCount > 0 { songs = try await Page.collect(limit: songCount, offset: songOffset) { try await library.tracks(.all, page: $0) } }
        } else {
            // Apps add `*` or quotes for other servers' engines; Encore's search matches prefixes by itself.
            let words = query.replacingOccurrences(of: "*", with: " ").replacingOccurrences(of: "\"", with: " ")
            func search(_ kind: SearchRequest.Kind, count: Int, offset: Int) async throws -> HydratedSearchResults? {
                guard count > 0, offset <= 1000 else { return nil }
                return try await services.search.search(
                    try SearchRequest(query: words, kinds: [kind], limit: min(count, SearchRequest.maxLimit), offset: offset))
            }
            let artistIds = try await search(.artist, count: artistCount, offset: artistOffset)?.artists.map(\.artist.id) ?? []
            let artistSummaries = try await library.artistSummaries(ids: artistIds)
            artists = artistIds.compactMap { artistSummaries[$0] }
            let albumIds = try await search(.album, count: albumCount, offset: albumOffset)?.albums.map(\.album.id) ?? []
            let albumSummaries = try await library.albumSummaries(ids: albumIds)
            albums = albumIds.compactMap { albumSummaries[$0] }
            // The hits carry their tracks already; albums and artists are read again for their counts.
            songs = try await search(.track, count: songCount, offset: songOffset)?.tracks.map(\.track).filter(\.isPlayable) ?? []
        }
        let view = try entries(call)
        var result = SubsonicObject()
        if directories {
            let marks = try await library.marks(try call.principal, ids: artists.map(\.artist.id))
            result["artist"] = .list(
                artists.map { summary in
                    var entry = SubsonicObject(["id": .string(summary.artist.id.subsonic), "name": .string(summary.artist.name)])
                    entry["starred"] = marks.starred[summary.artist.id].map { .date($0) }
                    return entry
                })
            result["album"] = .list(try await view.albumDirectories(albums))
        } else {
            result["artist"] = .list(try await view.artists(artists))
            result["album"] = .list(try await view.albums(albums))
        }
        result["song"] = .list(try await view.songs(songs))
        return SubsonicObject([element: .object(result)])
    }

    // MARK: Playlists

    func playlistObject(_ playlist: Playlist, owner: String, tracks: [Track]?, call: SubsonicCall) async throws -> SubsonicObject {
        var entry = SubsonicObject([
            "id": .string(playlist.id.subsonic), "name": .string(playlist.title), "comment": "", "owner": .string(owner),
            "public": .bool(playlist.isPublic), "songCount": .int(tracks?.count ?? playlist.trackCount), "created": .date(playlist.createdAt),
            "changed": .date(playlist.updatedAt),
        ])
        if let tracks {
            entry["duration"] = .int(tracks.map(\.durationMs).reduce(0, +) / 1000)
            entry["entry"] = .list(try await entries(call).songs(tracks))
        }
        return entry
    }

    /// A playlist's playable entries, in order: what Subsonic apps see, and what their indexes count.
    func playableEntries(_ principal: Principal, id: UUID) async throws -> [PlaylistEntry] {
        try await Page.collect(limit: PlaylistService.maxPlaylistLength) { try await services.playlists.playlistEntries(principal, id: id, page: $0) }
            .filter(\.track.isPlayable)
    }

    func playlistTracks(_ principal: Principal, id: UUID) async throws -> [Track] {
        try await playableEntries(principal, id: id).map(\.track)
    }

    @Sendable func getPlaylists(_ call: SubsonicCall) async throws -> SubsonicObject {
        let user = try call.user
        if let username = call.parameters.string("username"), username.lowercased() != user.email.lowercased() {
            throw EncoreError(.forbidden, "Only your own playlists can be listed.")
        }
        let playlists = try await Page.collect(limit: 10_000) { try await services.playlists.playlists(user.principal, page: $0) }
        var list: [SubsonicObject] = []
        for playlist in playlists {
            let tracks = try await playlistTracks(user.principal, id: playlist.id)
            var entry = try await playlistObject(playlist, owner: user.email, tracks: nil, call: call)
            // The same counts getPlaylist shows: playable tracks only.
            entry["songCount"] = .int(tracks.count)
            entry["duration"] = .int(tracks.map(\.durationMs).reduce(0, +) / 1000)
            list.append(entry)
        }
        return SubsonicObject(["playlists": .object(SubsonicObject(["playlist": .list(list)]))])
    }

    @Sendable func getPlaylist(_ call: SubsonicCall) async throws -> SubsonicObject {
        try await playlistDocument(try call.parameters.id(), call: call)
    }

    func playlistDocument(_ id: UUID, call: SubsonicCall) async throws -> SubsonicObject {
        let principal = try call.principal
        let playlist = try await services.playlists.playlist(principal, id: id)
        let owner = try await services.environment.store.accounts.user(id: playlist.ownerId)
        // Another listener's public playlist shows its owner's display name, never their email.
        let ownerName = playlist.ownerId == principal.userId ? try call.user.email : (owner?.displayName ?? "")
        let tracks = try await playlistTracks(principal, id: id)
        return SubsonicObject(["playlist": .object(try await playlistObject(playlist, owner: ownerName, tracks: tracks, call: call))])
    }

    /// Creates a playlist of `songId`s, or with `playlistId` replaces that playlist's songs.
    @Sendable func createPlaylist(_ call: SubsonicCall) async throws -> SubsonicObject {
        let principal = try call.principal
        let songs = try call.parameters.ids("songId")
        let playlist: Playlist
        if let existing = call.parameters.string("playlistId"), !existing.isEmpty {
            playlist = try await services.playlists.playlist(principal, id: try SubsonicParameters.uuid(existing))
            try principal.requireOwnership(of: playlist.ownerId)
            // All or nothing: an unknown song leaves the playlist as it was.
            _ = try await services.playlists.editTracks(principal, id: playlist.id, replacingAll: true, appending: songs)
            if let name = call.parameters.string("name"), !name.isEmpty {
                _ = try await services.playlists.updatePlaylist(principal, id: playlist.id, title: name, isPublic: nil)
            }
        } else {
            playlist = try await services.playlists.createPlaylist(principal, title: try call.parameters.require("name"), isPublic: false)
            if !songs.isEmpty {
                do {
                    _ = try await services.playlists.editTracks(principal, id: playlist.id, appending: songs)
                } catch {
                    try? await services.playlists.deletePlaylist(principal, id: playlist.id)  // no half-made playlist
                    throw error
                }
            }
        }
        return try await playlistDocument(playlist.id, call: call)
    }

    @Sendable func updatePlaylist(_ call: SubsonicCall) async throws -> SubsonicObject {
        let principal = try call.principal
        let parameters = call.parameters
        let id = try parameters.id("playlistId")
        let playlist = try await services.playlists.playlist(principal, id: id)
        try principal.requireOwnership(of: playlist.ownerId)
        let name = parameters.string("name").flatMap { $0.isEmpty ? nil : $0 }
        let isPublic = try parameters.bool("public")
        if name != nil || isPublic != nil { _ = try await services.playlists.updatePlaylist(principal, id: id, title: name, isPublic: isPublic) }
        // Indexes count the entries the app was shown (playable ones), in the playlist as it was.
        let shown = try await playableEntries(principal, id: id)
        let removals = try parameters.all("songIndexToRemove").map { raw -> Int in
            guard let index = Int(raw), shown.indices.contains(index) else {
                throw EncoreError(.invalidParameter, "songIndexToRemove must be the position of one of the playlist's songs.")
            }
            return shown[index].position
        }
        let additions = try parameters.ids("songIdToAdd")
        if !removals.isEmpty || !additions.isEmpty {
            _ = try await services.playlists.editTracks(principal, id: id, removing: Set(removals), appending: additions)
        }
        return SubsonicObject()
    }

    @Sendable func deletePlaylist(_ call: SubsonicCall) async throws -> SubsonicObject {
        try await services.playlists.deletePlaylist(try call.principal, id: try call.parameters.id())
        return SubsonicObject()
    }

    // MARK: Media

    /// A redirect to the signed URL of the file that answers the request: the media origin (or the CDN in
    /// front of storage) serves the bytes, with ranges and HEAD. `stream` is never a play: players scrobble.
    @Sendable func stream(_ call: SubsonicCall) async throws -> Response {
        let grant = try await services.playback.stream(try call.principal, trackId: try call.parameters.id())
        guard let media = grant.track.media else { throw EncoreError(.trackNotReady, "The track is still being processed.") }
        let file = try SubsonicMedia.pick(
            media, originalKbps: SubsonicMedia.kbps(of: grant.track), format: call.parameters.string("format"),
            maxBitRate: try call.parameters.int("maxBitRate") ?? 0)
        return try redirect(to: file, in: grant)
    }

    @Sendable func download(_ call: SubsonicCall) async throws -> Response {
        let grant = try await services.playback.stream(try call.principal, trackId: try call.parameters.id())
        guard let media = grant.track.media else { throw EncoreError(.trackNotReady, "The track is still being processed.") }
        return try redirect(to: media.original, in: grant)
    }

    private func redirect(to file: MediaFile, in grant: StreamGrant) throws -> Response {
        guard let url = grant.progressive.first(where: { $0.file.key == file.key })?.url else {
            throw EncoreError(.internalError, "The chosen file has no signed URL.")
        }
        // 302, not 307: a client that POSTed the form (py-sonic, DSub) fetches the media with a GET.
        return Response(status: .found, headers: [.location: url, .cacheControl: "no-store"])
    }

    /// The cover of an album (or of a song's album, or of an artist's first album with one), as a
    /// redirect to the signed thumbnail nearest `size` from above.
    @Sendable func getCoverArt(_ call: SubsonicCall) async throws -> Response {
        let id = try call.parameters.id()
        let size = try call.parameters.int("size")
        let store = services.environment.store
        var album = try await store.catalog.album(id: id)
        if album == nil, let track = try await store.tracks.track(id: id) { album = try await store.catalog.album(id: track.albumId) }
        if album == nil, try await store.catalog.artist(id: id) != nil {
            album = try await Page.collect(limit: Self.maxListSize) { try await services.library.albums(.byArtist(id), page: $0) }
                .first { $0.album.cover != nil }?.album
        }
        guard let album, let cover = album.cover, let url = services.catalog.coverURLs(album)[cover.size(atLeast: size)] else {
            throw EncoreError(.notFound, "No cover art is stored for that id.")
        }
        // The signed URL changes once a day: clients may keep the redirect that long.
        return Response(status: .found, headers: [.location: url, .cacheControl: "private, max-age=3600"])
    }

    @Sendable func getLyricsBySongId(_ call: SubsonicCall) async throws -> SubsonicObject {
        _ = try await services.library.playableTrack(try call.parameters.id())
        // Encore stores no lyrics yet: an empty list is the protocol's "none".
        return SubsonicObject(["lyricsList": .object(SubsonicObject(["structuredLyrics": .list([])]))])
    }

    // MARK: Annotation

    /// What an id names: apps send album and artist ids in `id` too (the folder view has no separate kinds).
    func item(_ id: UUID) async throws -> LibraryItem {
        let store = services.environment.store
        if try await store.tracks.track(id: id) != nil { return LibraryItem(.track, id) }
        if try await store.catalog.album(id: id) != nil { return LibraryItem(.album, id) }
        if try await store.catalog.artist(id: id) != nil { return LibraryItem(.artist, id) }
        throw EncoreError(.notFound, "No song, album or artist with id \(id.subsonic).")
    }

    @Sendable func star(_ call: SubsonicCall, starred: Bool) async throws -> SubsonicObject {
        let parameters = call.parameters
        var items: [LibraryItem] = []
        for id in try parameters.ids("id") { items.append(try await item(id)) }
        items += try parameters.ids("albumId").map { LibraryItem(.album, $0) }
        items += try parameters.ids("artistId").map { LibraryItem(.artist, $0) }
        guard !items.isEmpty else { throw EncoreError(.missingParameter, "Required parameter id, albumId or artistId is missing.") }
        try await services.library.setStarred(try call.principal, items, starred: starred)
        return SubsonicObject()
    }

    @Sendable func setRating(_ call: SubsonicCall) async throws -> SubsonicObject {
        guard let rating = try call.parameters.int("rating") else { throw EncoreError(.missingParameter, "Required parameter rating is missing.") }
        guard (0...5).contains(rating) else { throw EncoreError(.invalidRating, "rating must be between 0 (none) and 5.") }
        try await services.library.rate(try call.principal, try await item(try call.parameters.id()), rating: rating)
        return SubsonicObject()
    }

    /// `submission=true` (the default) records a play, the same play the REST API records; `false` is "now
    /// playing". A scrobble is sent once the app judged the track heard (Last.fm's rule), so it counts.
    @Sendable func scrobble(_ call: SubsonicCall) async throws -> SubsonicObject {
        let parameters = call.parameters
        let user = try call.user
        let ids = try parameters.ids("id")
        guard !ids.isEmpty else { throw EncoreError(.missingParameter, "Required parameter id is missing.") }
        let times = parameters.all("time").map { Int($0) }
        let submission = try parameters.bool("submission") ?? true
        let now = services.environment.now()
        for (index, id) in ids.enumerated() {
            let track = try await services.library.playableTrack(id)
            // Milliseconds, as the protocol says; a value that can only be seconds (before 1973 in ms) is read as seconds.
            let time = (index < times.count ? times[index] : nil).map { $0 < 100_000_000_000 ? $0 * 1000 : $0 }
            let playedAt = time.map { Date(timeIntervalSince1970: TimeInterval($0) / 1000) }
            if submission {
                _ = try await services.plays.report(
                    user.principal, playId: Self.playId(user: user.id, track: id, time: time ?? Int(now.timeIntervalSince1970 * 1000)),
                    trackId: id, msPlayed: track.durationMs, playedAt: playedAt)
            } else {
                services.library.nowPlaying.started(track, by: user, player: call.client, at: now)
            }
        }
        return SubsonicObject()
    }

    /// A scrobble sent again (an app retrying) names the same play: its id is derived from what it reports.
    static func playId(user: UUID, track: UUID, time: Int) -> UUID {
        var bytes = Array(SHA256.hash(data: Data("\(user.subsonic)/\(track.subsonic)/\(time)".utf8)).prefix(16))
        bytes[6] = 0x80 | (bytes[6] & 0x0F)  // version 8: custom
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11],
                bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    // MARK: Play queue

    @Sendable func getPlayQueue(_ call: SubsonicCall) async throws -> SubsonicObject {
        let user = try call.user
        guard let queue = try await services.library.playQueue(user.principal) else { return SubsonicObject() }
        let stored = try await services.environment.store.tracks.tracks(ids: queue.trackIds)
        var result = SubsonicObject([
            "username": .string(user.email), "changed": .date(queue.changedAt), "changedBy": .string(queue.changedBy),
            "position": .int(queue.positionMs),
        ])
        result["current"] = queue.currentTrackId.map { .string($0.subsonic) }
        result["entry"] = .list(try await entries(call).songs(queue.trackIds.compactMap { stored[$0] }.filter(\.isPlayable)))
        return SubsonicObject(["playQueue": .object(result)])
    }

    @Sendable func savePlayQueue(_ call: SubsonicCall) async throws -> SubsonicObject {
        let parameters = call.parameters
        let current = try parameters.string("current").flatMap { $0.isEmpty ? nil : try SubsonicParameters.uuid($0) }
        try await services.library.savePlayQueue(
            try call.principal, trackIds: try parameters.ids("id"), current: current, positionMs: try parameters.int("position") ?? 0,
            client: call.client)
        return SubsonicObject()
    }
}
