import EncoreCore
import Foundation

/// Builds Subsonic's entries (songs, albums, artists, directories) for one caller, loading in batches what
/// they show beside the entity: names, play counts, the caller's stars and ratings.
struct SubsonicEntries: Sendable {
    let services: EncoreServices
    let principal: Principal

    var store: any DataStore { services.environment.store }

    // MARK: Songs

    func songs(_ tracks: [Track]) async throws -> [SubsonicObject] {
        guard !tracks.isEmpty else { return [] }
        let albums = try await store.catalog.albums(ids: Array(Set(tracks.map(\.albumId))))
        let artists = try await store.catalog.artists(ids: Array(Set(tracks.map(\.artistId))))
        let plays = try await services.library.playCounts(trackIds: tracks.map(\.id))
        let marks = try await services.library.marks(principal, ids: tracks.map(\.id))
        let played = try await services.library.lastPlayed(principal, trackIds: tracks.map(\.id))
        return tracks.map { track in
            var entry = song(
                track, album: albums[track.albumId], artistName: artists[track.artistId]?.name ?? "", playCount: plays[track.id] ?? 0, marks: marks)
            entry["played"] = played[track.id].map { .date($0) }  // OpenSubsonic: the caller's last play
            return entry
        }
    }

    func song(_ track: Track) async throws -> SubsonicObject {
        try await songs([track])[0]
    }

    private func song(_ track: Track, album: Album?, artistName: String, playCount: Int, marks: ListenerMarks) -> SubsonicObject {
        let original = track.media?.original
        let suffix = original?.format ?? "bin"
        let seconds = (track.durationMs + 500) / 1000
        let albumTitle = album?.title ?? ""
        var entry = SubsonicObject([
            "id": .string(track.id.subsonic), "parent": .string(track.albumId.subsonic), "isDir": false, "title": .string(track.title),
            "album": .string(albumTitle), "artist": .string(artistName), "track": .int(track.trackNumber),
        ])
        entry["year"] = album?.releaseYear.map { .int($0) }
        entry["genre"] = album?.genre.map { .string($0) }
        if album?.cover != nil { entry["coverArt"] = .string(track.albumId.subsonic) }
        entry["size"] = .int(original?.sizeBytes ?? 0)
        entry["contentType"] = .string(SubsonicMedia.contentType(forSuffix: suffix))
        entry["suffix"] = .string(suffix)
        entry["duration"] = .int(seconds)
        entry["bitRate"] = .int(SubsonicMedia.kbps(of: track))
        entry["path"] = .string(SubsonicMedia.path(artist: artistName, album: albumTitle, track: track, suffix: suffix))
        entry["created"] = .date(track.createdAt)
        entry["albumId"] = .string(track.albumId.subsonic)
        entry["artistId"] = .string(track.artistId.subsonic)
        entry["type"] = "music"
        entry["isVideo"] = false
        entry["playCount"] = .int(playCount)
        entry["starred"] = marks.starred[track.id].map { .date($0) }
        entry["userRating"] = marks.ratings[track.id].map { .int($0) }
        // OpenSubsonic.
        entry["mediaType"] = "song"
        entry["sortName"] = .string(track.title.libraryOrderKey)
        if let audio = track.audio {
            entry["samplingRate"] = .int(audio.sampleRate)
            entry["channelCount"] = .int(audio.channels)
        }
        entry["displayArtist"] = .string(artistName)
        entry["artists"] = .list([SubsonicObject(["id": .string(track.artistId.subsonic), "name": .string(artistName)])])
        entry["displayAlbumArtist"] = .string(artistName)
        entry["albumArtists"] = .list([SubsonicObject(["id": .string(track.artistId.subsonic), "name": .string(artistName)])])
        entry["genres"] = .list(album?.genre.map { [SubsonicObject(["name": .string($0)])] } ?? [])
        if let loudness = track.media?.loudness { entry["replayGain"] = .object(SubsonicMedia.replayGain(loudness)) }
        return entry
    }

    // MARK: Albums

    /// Albums as ID3 entries (`getAlbumList2`, `search3`, `getArtist`).
    func albums(_ summaries: [AlbumSummary]) async throws -> [SubsonicObject] {
        let marks = try await services.library.marks(principal, ids: summaries.map(\.album.id))
        return summaries.map { album($0, marks: marks) }
    }

    func album(_ summary: AlbumSummary, marks: ListenerMarks) -> SubsonicObject {
        let album = summary.album
        var entry = SubsonicObject([
            "id": .string(album.id.subsonic), "name": .string(album.title), "artist": .string(summary.artistName),
            "artistId": .string(album.artistId.subsonic), "songCount": .int(summary.songCount), "duration": .int((summary.durationMs + 500) / 1000),
            "playCount": .int(summary.playCount), "created": .date(album.createdAt),
        ])
        entry["year"] = album.releaseYear.map { .int($0) }
        entry["genre"] = album.genre.map { .string($0) }
        if album.cover != nil { entry["coverArt"] = .string(album.id.subsonic) }
        entry["starred"] = marks.starred[album.id].map { .date($0) }
        entry["userRating"] = marks.ratings[album.id].map { .int($0) }
        // OpenSubsonic.
        entry["sortName"] = .string(album.title.libraryOrderKey)
        entry["displayArtist"] = .string(summary.artistName)
        entry["artists"] = .list([SubsonicObject(["id": .string(album.artistId.subsonic), "name": .string(summary.artistName)])])
        entry["genres"] = .list(album.genre.map { [SubsonicObject(["name": .string($0)])] } ?? [])
        entry["isCompilation"] = false
        if let date = album.releaseDate {
            let parts = date.split(separator: "-").compactMap { Int($0) }
            if parts.count == 3 {
                entry["releaseDate"] = .object(SubsonicObject(["year": .int(parts[0]), "month": .int(parts[1]), "day": .int(parts[2])]))
            }
        }
        return entry
    }

    /// Albums as folder-view children (`getAlbumList`, `getMusicDirectory` of an artist, `search2`).
    func albumDirectories(_ summaries: [AlbumSummary]) async throws -> [SubsonicObject] {
        let marks = try await services.library.marks(principal, ids: summaries.map(\.album.id))
        return summaries.map { summary in
            let album = summary.album
            var entry = SubsonicObject([
                "id": .string(album.id.subsonic), "parent": .string(album.artistId.subsonic), "isDir": true, "title": .string(album.title),
                "name": .string(album.title), "album": .string(album.title), "artist": .string(summary.artistName),
                "artistId": .string(album.artistId.subsonic),
            ])
            entry["year"] = album.releaseYear.map { .int($0) }
            entry["genre"] = album.genre.map { .string($0) }
            if album.cover != nil { entry["coverArt"] = .string(album.id.subsonic) }
            entry["created"] = .date(album.createdAt)
            entry["playCount"] = .int(summary.playCount)
            entry["songCount"] = .int(summary.songCount)
            entry["duration"] = .int((summary.durationMs + 500) / 1000)
            entry["starred"] = marks.starred[album.id].map { .date($0) }
            entry["userRating"] = marks.ratings[album.id].map { .int($0) }
            return entry
        }
    }

    // MARK: Artists

    func artists(_ summaries: [ArtistSummary]) async throws -> [SubsonicObject] {
        let marks = try await services.library.marks(principal, ids: summaries.map(\.artist.id))
        return summaries.map { artist($0, marks: marks) }
    }

    func artist(_ summary: ArtistSummary, marks: ListenerMarks) -> SubsonicObject {
        var entry = SubsonicObject([
            "id": .string(summary.artist.id.subsonic), "name": .string(summary.artist.name), "albumCount": .int(summary.albumCount),
        ])
        entry["starred"] = marks.starred[summary.artist.id].map { .date($0) }
        entry["userRating"] = marks.ratings[summary.artist.id].map { .int($0) }
        entry["sortName"] = .string(summary.artist.name.libraryOrderKey)
        return entry
    }

    /// Artists grouped under their initial, as `getArtists` and `getIndexes` list them.
    /// Articles left out when filing artists under a letter, as `ignoredArticles` tells apps: "The Beatles"
    /// is under B, next to "Beach House".
    static let ignoredArticles = ["The", "A", "An", "El", "La", "Le", "Les", "Los", "Las", "Die", "Der", "Das"]

    /// The name artists are filed and sorted under: without a leading article.
    static func indexName(_ name: String) -> String {
        let key = name.libraryOrderKey
        for article in ignoredArticles {
            let prefix = article.lowercased() + " "
            if key.hasPrefix(prefix), key.count > prefix.count { return String(key.dropFirst(prefix.count)) }
        }
        return key
    }

    func indexed(_ summaries: [ArtistSummary], entry: (ArtistSummary, ListenerMarks) -> SubsonicObject) async throws -> [SubsonicObject] {
        let marks = try await services.library.marks(principal, ids: summaries.map(\.artist.id))
        let sorted = summaries.map { (Self.indexName($0.artist.name), $0) }.sorted {
            $0.0 != $1.0 ? $0.0 < $1.0 : $0.1.artist.id.uuidString < $1.1.artist.id.uuidString
        }
        var groups: [(name: String, artists: [SubsonicObject])] = []
        for (name, summary) in sorted {
            let initial = name.first.map { $0.isLetter ? String($0).uppercased() : "#" } ?? "#"
            if groups.last?.name == initial {
                groups[groups.count - 1].artists.append(entry(summary, marks))
            } else {
                groups.append((initial, [entry(summary, marks)]))
            }
        }
        return groups.map { SubsonicObject(["name": .string($0.name), "artist": .list($0.artists)]) }
    }
}

/// Media facts as Subsonic describes them.
enum SubsonicMedia {
    static func contentType(forSuffix suffix: String) -> String {
        switch suffix.lowercased() {
        case "mp3": "audio/mpeg"
        case "flac": "audio/flac"
        case "m4a", "mp4", "aac": "audio/mp4"
        case "ogg", "opus": "audio/ogg"
        case "wav": "audio/wav"
        case "aif", "aiff": "audio/aiff"
        default: "application/octet-stream"
        }
    }

    /// The original's bit rate in kbps: as probed, else from its size and duration.
    static func kbps(of track: Track) -> Int {
        if let bitRate = track.audio?.bitRate, bitRate > 0 { return (bitRate + 500) / 1000 }
        guard let size = track.media?.original.sizeBytes, track.durationMs > 0 else { return 0 }
        return Int((Double(size) * 8 / Double(track.durationMs)).rounded())
    }

    /// A path apps can use to name a downloaded file: `Artist/Album/01 - Title.flac`, without separators.
    static func path(artist: String, album: String, track: Track, suffix: String) -> String {
        func clean(_ part: String) -> String {
            String(part.map { "/\\\0".contains($0) ? "_" : $0 }).trimmingCharacters(in: .whitespaces)
        }
        let number = track.trackNumber < 10 ? "0\(track.trackNumber)" : "\(track.trackNumber)"
        return "\(clean(artist))/\(clean(album))/\(number) - \(clean(track.title)).\(suffix)"
    }

    /// ReplayGain 2.0's reference level. Encore's own players aim at -14 LUFS (``Loudness/targetLufs``);
    /// Subsonic apps apply `trackGain` as ReplayGain, so it is given against ReplayGain's reference.
    static let replayGainReferenceLufs = -18.0

    static func replayGain(_ loudness: Loudness) -> SubsonicObject {
        let gain = ((replayGainReferenceLufs - loudness.integratedLufs) * 100).rounded() / 100
        let peak = pow(10, loudness.truePeakDbtp / 20)
        return SubsonicObject(["trackGain": .double(gain), "trackPeak": .double(peak)])
    }

    /// Which stored file answers `stream` for `format` and `maxBitRate` (kbps, 0 = no limit).
    ///
    /// `raw` (or no format and no limit the original exceeds) is the original. Otherwise the ladder of the
    /// asked codec (MP3 when only a limit is given: every app plays it) at the highest rate at or below the
    /// limit, or its lowest rung when the limit is below all of them.
    static func pick(_ media: TrackMedia, originalKbps: Int, format: String?, maxBitRate: Int) throws -> MediaFile {
        let format = format?.lowercased()
        let limited = maxBitRate > 0
        if format == nil || format == "" || format == "raw" || format == media.original.format {
            if format == "raw" || !limited || (originalKbps > 0 && originalKbps <= maxBitRate) { return media.original }
        }
        let codec: String
        switch format {
        case nil, "", "raw", "mp3": codec = "mp3"
        case "opus", "ogg": codec = "opus"
        case "aac", "m4a", "mp4": codec = "aac"
        case media.original.format: codec = "mp3"  // the original's own format, over the limit: the closest lossy rung
        case let other?:
            throw EncoreError(.invalidParameter, "format \(other.prefix(20)) is not offered; use raw, mp3, opus, ogg, aac or m4a.")
        }
        let ladder = media.progressive.filter { $0.codec == codec }.sorted { ($0.bitrateKbps ?? 0) < ($1.bitrateKbps ?? 0) }
        guard let lowest = ladder.first else { return media.original }
        guard limited else { return ladder.last ?? lowest }
        return ladder.last { ($0.bitrateKbps ?? 0) <= maxBitRate } ?? lowest
    }
}

extension UUID {
    /// Ids as Subsonic apps see them: the same lower-case UUIDs as the REST API's.
    var subsonic: String { uuidString.lowercased() }
}
