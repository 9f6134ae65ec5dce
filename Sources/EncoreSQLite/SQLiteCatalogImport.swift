import EncoreCore
import Foundation
import GRDB

/// Bulk import straight into the tables with prepared statements, one transaction per batch; the
/// search index is written in the same transaction.
extension SQLiteCatalogStore: CatalogImportStore {
    public func importBatch(_ tracks: [ImportedTrack], owner: UUID) async throws -> [ImportRejection] {
        try await pool.write { db in
            // Imports touch much of the index: a large page cache (1 GiB, for this connection) saves re-reading it.
            try db.execute(sql: "PRAGMA cache_size = -1048576")
            let now = Date()
            let time = now.timeIntervalSince1970
            let terms = SearchIndexer.Terms()
            let postings = SearchIndexer.PostingBuffer()
            var analysed: [String: SearchIndexer.Analysed] = [:]
            func analyse(_ text: String) -> SearchIndexer.Analysed {
                if let known = analysed[text] { return known }
                let made = SearchIndexer.Analysed(text)
                analysed[text] = made
                return made
            }
            var artists: [String: UUID] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM artist WHERE ownerId = ?", arguments: [owner]) {
                artists[SearchText.fold(row["name"])] = row["id"]
            }
            var albums: [String: UUID] = [:]
            var albumsLoaded: Set<UUID> = []
            var numbers: [UUID: Set<Int>] = [:]
            var highest: [UUID: Int] = [:]
            var popularity: [UUID: Double] = [:]
            var rejected: [ImportRejection] = []

            let insertArtist = try db.cachedStatement(
                sql: "INSERT INTO artist (id, ownerId, name, bio, country, createdAt, updatedAt) VALUES (?, ?, ?, '', NULL, ?, ?)")
            let insertAlbum = try db.cachedStatement(
                sql: "INSERT INTO album (id, artistId, title, genre, releaseDate, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?, ?, ?)")
            let insertTrack = try db.cachedStatement(
                sql: """
                    INSERT INTO track (id, albumId, artistId, title, trackNumber, durationMs, status, sourceKey, createdAt, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)

            for track in tracks {
                let artistKey = SearchText.fold(track.artist)
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
                if !newArtist, !albumsLoaded.contains(artistId) {
                    for row in try Row.fetchAll(db, sql: "SELECT id, title FROM album WHERE artistId = ?", arguments: [artistId]) {
                        albums[artistId.uuidString + "|" + SearchText.fold(row["title"])] = row["id"]
                    }
                }
                albumsLoaded.insert(artistId)
                let albumKey = artistId.uuidString + "|" + SearchText.fold(track.album)
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
                        kind: .artist, entityId: artistId, main: analyse(track.artist), secondary: [], popularity: 0, createdAt: now, db,
                        terms: terms,
                        postings: postings)
                }
                if newAlbum {
                    try insertAlbum.execute(arguments: [albumId, artistId, track.album, track.genre, track.releaseDate, time, time])
                    albums[albumKey] = albumId
                    numbers[albumId] = []
                    try SearchIndexer.insertFresh(
                        kind: .album, entityId: albumId, main: analyse(track.album), secondary: [analyse(track.artist)], popularity: 0,
                        createdAt: now, db, terms: terms, postings: postings)
                }
                numbers[albumId, default: []].insert(number)
                highest[albumId] = max(highest[albumId] ?? 0, number)
                let status = track.sourceKey == nil ? TrackStatus.pending : .processing
                try insertTrack.execute(arguments: [
                    track.trackId, albumId, artistId, track.title, number, track.durationMs, status.rawValue, track.sourceKey?.rawValue, time, time,
                ])
                if let source = track.sourceKey {
                    _ = try JobRecord.insert(TrackProcessingJob(trackId: track.trackId, sourceKey: source).request, now: now, into: db)
                }
                try SearchIndexer.insertFresh(
                    kind: .track, entityId: track.trackId, main: analyse(track.title), secondary: [analyse(track.artist), analyse(track.album)],
                    popularity: Double(track.plays), createdAt: now, db, terms: terms, postings: postings)
                if track.plays > 0 {
                    popularity[artistId, default: 0] += Double(track.plays)
                    popularity[albumId, default: 0] += Double(track.plays)
                }
            }
            try postings.write(db)
            try terms.flush(db)
            let bump = try db.cachedStatement(sql: "UPDATE searchDoc SET popularity = popularity + ? WHERE entityId = ?")
            for (id, plays) in popularity { try bump.execute(arguments: [plays, id]) }
            return rejected
        }
    }
}
