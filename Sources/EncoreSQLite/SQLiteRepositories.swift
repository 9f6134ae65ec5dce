import EncoreCore
import Foundation
import GRDB

// The SQLite repositories: each runs its statements through an executor, so the same code serves calls
// on their own and calls inside a `SQLiteDataStore.transaction`.

struct SQLiteAccounts: AccountRepository {
    let executor: SQLiteExecutor

    func insertUser(_ user: User, passwordHash: String) async throws {
        try await executor.write { db in try UserRecord(user, passwordHash: passwordHash).insert(db) }
    }

    func user(id: UUID) async throws -> User? {
        try await executor.read { db in try UserRecord.fetchOne(db, key: id)?.domain() }
    }

    func credentials(email: String) async throws -> (user: User, passwordHash: String)? {
        try await executor.read { db in
            guard let record = try UserRecord.filter(Column("email") == email).fetchOne(db) else { return nil }
            return (try record.domain(), record.passwordHash)
        }
    }

    func updateUser(id: UUID, newPasswordHash: String?, _ change: @escaping @Sendable (inout User) throws -> Void) async throws -> User {
        try await executor.write { db in
            guard let record = try UserRecord.fetchOne(db, key: id) else { throw EncoreError.notFound(.userNotFound) }
            var user = try record.domain()
            try change(&user)
            try UserRecord(user, passwordHash: newPasswordHash ?? record.passwordHash).update(db)
            return user
        }
    }

    func deleteUser(id: UUID) async throws -> Removed {
        try await executor.write { db in
            let removed = Removed(
                artistIds: try UUID.fetchAll(db, sql: "SELECT id FROM artist WHERE ownerId = ?", arguments: [id]),
                albumIds: try UUID.fetchAll(
                    db, sql: "SELECT id FROM album WHERE artistId IN (SELECT id FROM artist WHERE ownerId = ?)", arguments: [id]),
                trackIds: try trackIds(db, whereClause: "artistId IN (SELECT id FROM artist WHERE ownerId = ?)", id))
            guard try UserRecord.deleteOne(db, key: id) else { throw EncoreError.notFound(.userNotFound) }
            return removed
        }
    }
}

struct SQLiteCatalog: CatalogRepository {
    let executor: SQLiteExecutor

    func insertArtist(_ artist: Artist) async throws {
        try await executor.write { db in try ArtistRecord(artist).insert(db) }
    }

    func artist(id: UUID) async throws -> Artist? {
        try await executor.read { db in try ArtistRecord.fetchOne(db, key: id)?.domain }
    }

    func artists(ownerId: UUID?, page: PageRequest) async throws -> Page<Artist> {
        try await executor.read { db in
            var request = ArtistRecord.all()
            if let ownerId { request = request.filter(Column("ownerId") == ownerId) }
            let rows = try request.order(Column("name").collating(.nocase), Column("id"))
                .limit(page.limit + 1, offset: page.offset).fetchAll(db)
            return Page(fetched: rows.map(\.domain), request: page)
        }
    }

    func artists(ids: [UUID]) async throws -> [UUID: Artist] {
        try await executor.read { db in
            Dictionary(uniqueKeysWithValues: try ArtistRecord.fetchAll(db, keys: ids).map { ($0.id, $0.domain) })
        }
    }

    func updateArtist(id: UUID, _ change: @escaping @Sendable (inout Artist) throws -> Void) async throws -> (before: Artist, after: Artist) {
        try await executor.write { db in
            guard let before = try ArtistRecord.fetchOne(db, key: id)?.domain else { throw EncoreError.notFound(.artistNotFound) }
            var artist = before
            try change(&artist)
            try ArtistRecord(artist).update(db)
            return (before, artist)
        }
    }

    func deleteArtist(id: UUID) async throws -> Removed {
        try await executor.write { db in
            let removed = Removed(
                artistIds: [id], albumIds: try UUID.fetchAll(db, sql: "SELECT id FROM album WHERE artistId = ?", arguments: [id]),
                trackIds: try trackIds(db, whereClause: "artistId = ?", id))
            guard try ArtistRecord.deleteOne(db, key: id) else { throw EncoreError.notFound(.artistNotFound) }
            return removed
        }
    }

    func insertAlbum(_ album: Album) async throws {
        try await executor.write { db in try AlbumRecord(album).insert(db) }
    }

    func album(id: UUID) async throws -> Album? {
        try await executor.read { db in try AlbumRecord.fetchOne(db, key: id)?.domain }
    }

    func albums(artistId: UUID, page: PageRequest) async throws -> Page<Album> {
        try await executor.read { db in
            let rows = try AlbumRecord.filter(Column("artistId") == artistId)
                .order(Column("releaseDate").ascNullsLast, Column("createdAt"), Column("id"))
                .limit(page.limit + 1, offset: page.offset).fetchAll(db)
            return Page(fetched: rows.map(\.domain), request: page)
        }
    }

    func albums(ids: [UUID]) async throws -> [UUID: Album] {
        try await executor.read { db in
            Dictionary(uniqueKeysWithValues: try AlbumRecord.fetchAll(db, keys: ids).map { ($0.id, $0.domain) })
        }
    }

    func updateAlbum(id: UUID, _ change: @escaping @Sendable (inout Album) throws -> Void) async throws -> (before: Album, after: Album) {
        try await executor.write { db in
            guard let before = try AlbumRecord.fetchOne(db, key: id)?.domain else { throw EncoreError.notFound(.albumNotFound) }
            var album = before
            try change(&album)
            try AlbumRecord(album).update(db)
            return (before, album)
        }
    }

    func deleteAlbum(id: UUID) async throws -> Removed {
        try await executor.write { db in
            let removed = Removed(albumIds: [id], trackIds: try trackIds(db, whereClause: "albumId = ?", id))
            guard try AlbumRecord.deleteOne(db, key: id) else { throw EncoreError.notFound(.albumNotFound) }
            return removed
        }
    }
}

struct SQLiteTracks: TrackRepository {
    let executor: SQLiteExecutor

    func insertTrack(_ track: Track) async throws -> Track {
        try await executor.write { db in
            var track = track
            if track.trackNumber == 0 {
                let highest = try Int.fetchOne(db, sql: "SELECT MAX(trackNumber) FROM track WHERE albumId = ?", arguments: [track.albumId]) ?? 0
                guard highest < Validate.maxTrackNumber else {
                    throw EncoreError(.trackNumberTaken, "The album's last track number (\(Validate.maxTrackNumber)) is taken; give a trackNumber.")
                }
                track.trackNumber = highest + 1
            }
            try TrackRecord(track).insert(db)
            return track
        }
    }

    func track(id: UUID) async throws -> Track? {
        try await executor.read { db in try TrackRecord.fetchOne(db, key: id)?.domain() }
    }

    func tracks(ids: [UUID]) async throws -> [UUID: Track] {
        try await executor.read { db in
            Dictionary(uniqueKeysWithValues: try TrackRecord.fetchAll(db, keys: ids).map { ($0.id, try $0.domain()) })
        }
    }

    func tracks(albumId: UUID, page: PageRequest) async throws -> Page<Track> {
        try await executor.read { db in
            let rows = try TrackRecord.filter(Column("albumId") == albumId).order(Column("trackNumber"))
                .limit(page.limit + 1, offset: page.offset).fetchAll(db)
            return Page(fetched: try rows.map { try $0.domain() }, request: page)
        }
    }

    func updateTrack(id: UUID, _ change: @escaping @Sendable (inout Track) throws -> Void) async throws -> (before: Track, after: Track) {
        try await executor.write { db in
            guard let before = try TrackRecord.fetchOne(db, key: id)?.domain() else { throw EncoreError.notFound(.trackNotFound) }
            var after = before
            try change(&after)
            try TrackRecord(after).update(db)
            return (before, after)
        }
    }

    func saveFingerprint(_ fingerprint: AudioFingerprint, trackId: UUID, artistId: UUID) async throws {
        try await executor.write { db in try FingerprintRecord(trackId: trackId, artistId: artistId, fingerprint: fingerprint).upsert(db) }
    }

    func fingerprintCandidates(durationSeconds: Double, tolerance: Double, excludingTrack: UUID) async throws -> [FingerprintCandidate] {
        try await executor.read { db in
            try FingerprintRecord.fetchAll(
                db,
                sql: """
                    SELECT f.* FROM fingerprint f JOIN track t ON t.id = f.trackId
                    WHERE f.durationSeconds BETWEEN ? AND ? AND f.trackId != ? AND t.status = 'ready'
                    """,
                arguments: [durationSeconds - tolerance, durationSeconds + tolerance, excludingTrack]
            ).map { FingerprintCandidate(trackId: $0.trackId, artistId: $0.artistId, fingerprint: $0.fingerprint) }
        }
    }

    func deleteTrack(id: UUID) async throws -> Track? {
        try await executor.write { db in
            guard let track = try TrackRecord.fetchOne(db, key: id)?.domain() else { return nil }
            try TrackRecord.deleteOne(db, key: id)
            return track
        }
    }
}

struct SQLitePlaylists: PlaylistRepository {
    let executor: SQLiteExecutor

    func insertPlaylist(_ playlist: Playlist) async throws {
        try await executor.write { db in try PlaylistRecord(playlist).insert(db) }
    }

    func playlist(id: UUID) async throws -> Playlist? {
        try await executor.read { db in try Self.playlist(db, id: id) }
    }

    func playlists(ownerId: UUID, page: PageRequest) async throws -> Page<Playlist> {
        try await executor.read { db in
            let rows = try PlaylistRecord.filter(Column("ownerId") == ownerId).order(Column("createdAt"), Column("id"))
                .limit(page.limit + 1, offset: page.offset).fetchAll(db)
            let playlists = try rows.map { $0.domain(trackCount: try Self.trackCount(db, playlistId: $0.id)) }
            return Page(fetched: playlists, request: page)
        }
    }

    func updatePlaylist(id: UUID, _ change: @escaping @Sendable (inout Playlist) throws -> Void) async throws -> Playlist {
        try await executor.write { db in
            guard var playlist = try Self.playlist(db, id: id) else { throw EncoreError.notFound(.playlistNotFound) }
            try change(&playlist)
            try PlaylistRecord(playlist).update(db)
            return playlist
        }
    }

    func deletePlaylist(id: UUID) async throws -> Bool {
        try await executor.write { db in try PlaylistRecord.deleteOne(db, key: id) }
    }

    func playlistEntries(playlistId: UUID, page: PageRequest) async throws -> Page<PlaylistEntry> {
        try await executor.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT ROW_NUMBER() OVER (ORDER BY e.ordinal) - 1 AS position, e.addedAt AS addedAt, t.*
                    FROM playlistEntry e JOIN track t ON t.id = e.trackId
                    WHERE e.playlistId = ? ORDER BY e.ordinal LIMIT ? OFFSET ?
                    """,
                arguments: [playlistId, page.limit + 1, page.offset])
            let entries = try rows.map { row in
                PlaylistEntry(
                    position: row["position"], track: try TrackRecord(row: row).domain(),
                    addedAt: Date(timeIntervalSince1970: row["addedAt"]))
            }
            return Page(fetched: entries, request: page)
        }
    }

    func updatePlaylistSlots(playlistId: UUID, _ change: @escaping @Sendable (inout [PlaylistSlot]) throws -> Void) async throws -> Playlist {
        try await executor.write { db in
            guard var playlist = try Self.playlist(db, id: playlistId) else { throw EncoreError.notFound(.playlistNotFound) }
            var slots = try PlaylistEntryRecord.filter(Column("playlistId") == playlistId).order(Column("ordinal")).fetchAll(db)
                .map { PlaylistSlot(trackId: $0.trackId, addedAt: $0.addedAt) }
            try change(&slots)
            try PlaylistEntryRecord.filter(Column("playlistId") == playlistId).deleteAll(db)
            for (ordinal, slot) in slots.enumerated() {
                try PlaylistEntryRecord(playlistId: playlistId, ordinal: ordinal, trackId: slot.trackId, addedAt: slot.addedAt).insert(db)
            }
            playlist.trackCount = slots.count
            playlist.updatedAt = Date()
            try PlaylistRecord(playlist).update(db)
            return playlist
        }
    }

    private static func playlist(_ db: Database, id: UUID) throws -> Playlist? {
        guard let record = try PlaylistRecord.fetchOne(db, key: id) else { return nil }
        return record.domain(trackCount: try trackCount(db, playlistId: id))
    }

    private static func trackCount(_ db: Database, playlistId: UUID) throws -> Int {
        try PlaylistEntryRecord.filter(Column("playlistId") == playlistId).fetchCount(db)
    }
}

struct SQLitePlays: PlayRepository {
    let executor: SQLiteExecutor

    func recordPlay(_ play: Play) async throws -> (play: Play, recorded: Bool) {
        try await executor.write { db in
            if let stored = try PlayRecord.fetchOne(db, key: play.id)?.domain {
                guard stored.userId == play.userId else { throw EncoreError(.playIdTaken, "Another user's play has that playId.") }
                return (stored, false)
            }
            try PlayRecord(play).insert(db)
            return (play, true)
        }
    }

    func playCount(trackId: UUID) async throws -> Int {
        try await executor.read { db in try PlayRecord.filter(Column("trackId") == trackId && Column("counts") == true).fetchCount(db) }
    }

    func lastPlayed(userId: UUID, trackIds: [UUID]) async throws -> [UUID: Date] {
        guard !trackIds.isEmpty else { return [:] }
        return try await executor.read { db in
            var dates: [UUID: Date] = [:]
            let rows = try Row.fetchAll(
                db,
                sql:
                    "SELECT trackId, max(playedAt) AS last FROM play WHERE userId = ? AND trackId IN (\(databaseQuestionMarks(count: trackIds.count))) GROUP BY trackId",
                arguments: StatementArguments([userId] + trackIds))
            for row in rows { dates[row["trackId"]] = Date(timeIntervalSince1970: row["last"]) }
            return dates
        }
    }

    func history(userId: UUID, page: PageRequest) async throws -> Page<Play> {
        try await executor.read { db in
            let rows = try PlayRecord.filter(Column("userId") == userId).order(Column("playedAt").desc, Column("id"))
                .limit(page.limit + 1, offset: page.offset).fetchAll(db)
            return Page(fetched: rows.map(\.domain), request: page)
        }
    }
}

struct SQLiteAppPasswords: AppPasswordRepository {
    let executor: SQLiteExecutor

    func insertAppPassword(_ password: AppPassword, sealedSecret: Data, lookupKey: Data) async throws {
        try await executor.write { db in
            try AppPasswordRecord(
                id: password.id, userId: password.userId, name: password.name, sealedSecret: sealedSecret, lookupKey: lookupKey,
                createdAt: password.createdAt, lastUsedAt: password.lastUsedAt
            ).insert(db)
        }
    }

    func appPasswords(userId: UUID) async throws -> [(password: AppPassword, sealedSecret: Data)] {
        try await executor.read { db in
            try AppPasswordRecord.filter(Column("userId") == userId).order(Column("createdAt"), Column("id")).fetchAll(db)
                .map { ($0.domain, $0.sealedSecret) }
        }
    }

    func appPassword(lookupKey: Data) async throws -> (password: AppPassword, sealedSecret: Data)? {
        try await executor.read { db in
            try AppPasswordRecord.filter(Column("lookupKey") == lookupKey).fetchOne(db).map { ($0.domain, $0.sealedSecret) }
        }
    }

    func deleteAppPassword(id: UUID, userId: UUID) async throws -> Bool {
        try await executor.write { db in try AppPasswordRecord.filter(Column("id") == id && Column("userId") == userId).deleteAll(db) > 0 }
    }

    func markAppPasswordUsed(id: UUID, at time: Date) async throws {
        try await executor.write { db in
            try db.execute(sql: "UPDATE appPassword SET lastUsedAt = ? WHERE id = ?", arguments: [time.timeIntervalSince1970, id])
        }
    }
}

/// Keeps Encore's own index tables in step, in the caller's transaction.
struct SQLiteSearchIndexWriter: SearchIndexWriter {
    let executor: SQLiteExecutor

    func artistChanged(_ id: UUID, cascade: Bool) async throws {
        try await executor.write { db in cascade ? try SearchIndexer.indexArtistTree(id, db) : try SearchIndexer.indexArtist(id, db) }
    }

    func albumChanged(_ id: UUID, cascade: Bool) async throws {
        try await executor.write { db in
            try SearchIndexer.indexAlbum(id, db)
            guard cascade else { return }
            for track in try UUID.fetchAll(db, sql: "SELECT id FROM track WHERE albumId = ?", arguments: [id]) {
                try SearchIndexer.indexTrack(track, db)
            }
        }
    }

    func trackChanged(_ id: UUID) async throws {
        try await executor.write { db in try SearchIndexer.indexTrack(id, db) }
    }

    func removed(_ ids: [UUID]) async throws {
        guard !ids.isEmpty else { return }
        try await executor.write { db in try SearchIndexer.remove(ids, db) }
    }

    func played(trackId: UUID, at time: Date) async throws {
        try await executor.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT albumId, artistId FROM track WHERE id = ?", arguments: [trackId]) else { return }
            try SearchIndexer.recordPlay([trackId, row["albumId"], row["artistId"]], at: time, db)
        }
    }
}

private func trackIds(_ db: Database, whereClause: String, _ id: UUID) throws -> [UUID] {
    try UUID.fetchAll(db, sql: "SELECT id FROM track WHERE \(whereClause) ORDER BY id", arguments: [id])
}
