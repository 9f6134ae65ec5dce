import EncoreCore
import Foundation
import GRDB

/// Bulk import straight into the tables with prepared statements, one transaction per batch; the
/// search index is written in the same transaction.
///
/// What an import has learnt so far: the owner's artists and albums by folded name, and the track
/// numbers in use, so that later batches need no look-ups. Reset if a batch fails (its rows rolled back).
// @unchecked Sendable, and why that is safe: `state` is read and written only inside `executor.write`
// closures, which GRDB runs one at a time on the single writer connection, and `CatalogImporter` awaits
// each batch before it starts the next, so no two accesses ever overlap.
final class SQLiteImportSession: CatalogImportSession, @unchecked Sendable {
    struct State {
        var artists: [String: UUID]?
        var albums: [String: UUID] = [:]
        var albumsLoaded: Set<UUID> = []
        var numbers: [UUID: Set<Int>] = [:]
        var highest: [UUID: Int] = [:]
    }

    let executor: SQLiteExecutor
    let owner: UUID
    /// Touched only inside the executor's write closure, one batch at a time (see above).
    private var state = State()

    init(executor: SQLiteExecutor, owner: UUID) {
        self.executor = executor
        self.owner = owner
    }

    func write(_ tracks: [ImportedTrack]) async throws -> [ImportRejection] {
        do {
            return try await executor.write { db in try self.write(tracks, into: db) }
        } catch {
            try? await executor.write { _ in self.state = State() }  // the rolled-back rows must not be remembered
            throw error
        }
    }

    func finish() async throws {
        try await executor.write { db in
            try db.execute(sql: "PRAGMA cache_size = -2000")  // give the memory back to a long-running process
        }
    }

    private func write(_ tracks: [ImportedTrack], into db: Database) throws -> [ImportRejection] {
        let owner = self.owner
        do {
            // Imports touch much of the index: a large page cache (1 GiB, for this connection) saves re-reading it.
            // (Deferring WAL checkpoints to the end was measured too: slower, as reads then search a huge WAL.)
            try db.execute(sql: "PRAGMA cache_size = -1048576")
            let now = Date()
            let time = now.timeIntervalSince1970
            if state.artists == nil {
                var known: [String: UUID] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT id, name FROM artist WHERE ownerId = ?", arguments: [owner]) {
                    known[SearchText.fold(row["name"])] = row["id"]
                }
                state.artists = known
            }
            var artists = state.artists ?? [:]
            var albums = state.albums
            var albumsLoaded = state.albumsLoaded
            var numbers = state.numbers
            var highest = state.highest
            defer {
                state.artists = artists
                state.albums = albums
                state.albumsLoaded = albumsLoaded
                state.numbers = numbers
                state.highest = highest
            }
            var popularity: [UUID: Double] = [:]
            var rejected: [ImportRejection] = []

            let insertArtist = try db.cachedStatement(
                sql: "INSERT INTO artist (id, ownerId, name, bio, country, createdAt, updatedAt) VALUES (?, ?, ?, '', NULL, ?, ?)")
            let insertAlbum = try db.cachedStatement(
                sql: "INSERT INTO album (id, artistId, title, genre, releaseDate, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?, ?, ?)")
            var insertTrack = FastStatement(
                try db.cachedStatement(
                    sql: """
                        INSERT INTO track (id, albumId, artistId, title, trackNumber, durationMs, status, sourceKey, createdAt, updatedAt)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """))

            for track in tracks {
                let artistKey = track.artistKey
                let artistId: UUID
                var newArtist = false
                if let existing = artists[artistKey] {
                    artistId = existing
                } else {
                    artistId = UUID.timeOrdered()
                    try insertArtist.execute(arguments: [artistId, owner, track.artist, time, time])
                    artists[artistKey] = artistId
                    newArtist = true
                }
                if !newArtist, !albumsLoaded.contains(artistId) {  // an artist that existed before this import
                    for row in try Row.fetchAll(db, sql: "SELECT id, title FROM album WHERE artistId = ?", arguments: [artistId]) {
                        albums[artistId.uuidString + "|" + SearchText.fold(row["title"])] = row["id"]
                    }
                }
                albumsLoaded.insert(artistId)
                let albumKey = artistId.uuidString + "|" + track.albumKey
                let albumId: UUID
                var newAlbum = false
                if let existing = albums[albumKey] {
                    albumId = existing
                } else {
                    albumId = UUID.timeOrdered()
                    newAlbum = true
                }
                if !newAlbum, numbers[albumId] == nil {
                    let taken = try Int.fetchAll(db, sql: "SELECT trackNumber FROM track WHERE albumId = ?", arguments: [albumId])
                    numbers[albumId] = Set(taken)
                    highest[albumId] = taken.max() ?? 0
                }
                let number = track.trackNumber ?? (highest[albumId] ?? 0) + 1
                if numbers[albumId, default: []].contains(number) {
                    // Only an album that exists already can have a taken number, so nothing new was written.
                    rejected.append(ImportRejection(line: track.line, reason: "track number \(number) is taken in album \"\(track.album)\""))
                    continue
                }
                if newArtist {
                    try SearchIndexer.insertFresh(
                        kind: .artist, entityId: artistId, main: track.artistName, secondary: [], popularity: 0, createdAt: now, db)
                }
                if newAlbum {
                    try insertAlbum.execute(arguments: [albumId, artistId, track.album, track.genre, track.releaseDate, time, time])
                    albums[albumKey] = albumId
                    numbers[albumId] = []
                    try SearchIndexer.insertFresh(
                        kind: .album, entityId: albumId, main: track.albumName, secondary: [track.artistName], popularity: 0,
                        createdAt: now, db)
                }
                numbers[albumId, default: []].insert(number)
                highest[albumId] = max(highest[albumId] ?? 0, number)
                let status = track.sourceKey == nil ? TrackStatus.pending : .processing
                insertTrack.bind(track.trackId)
                insertTrack.bind(albumId)
                insertTrack.bind(artistId)
                insertTrack.bind(track.title)
                insertTrack.bind(number)
                insertTrack.bind(track.durationMs)
                insertTrack.bind(status.rawValue)
                insertTrack.bind(track.sourceKey?.rawValue)
                insertTrack.bind(time)
                insertTrack.bind(time)
                try insertTrack.step()
                if let source = track.sourceKey {
                    _ = try JobRecord.insert(TrackProcessingJob(trackId: track.trackId, sourceKey: source).request, now: now, into: db)
                }
                try SearchIndexer.insertFresh(
                    kind: .track, entityId: track.trackId, main: track.titleName, secondary: [track.artistName, track.albumName],
                    popularity: Double(track.plays), createdAt: now, db)
                if track.plays > 0 {
                    popularity[artistId, default: 0] += Double(track.plays)
                    popularity[albumId, default: 0] += Double(track.plays)
                }
            }
            let bump = try db.cachedStatement(sql: "UPDATE searchDoc SET popularity = popularity + ? WHERE entityId = ?")
            for (id, plays) in popularity { try bump.execute(arguments: [plays, id]) }
            return rejected
        }
    }
}
