import EncoreCore
import Foundation
import GRDB

/// The embedded catalog store: one SQLite file in WAL mode through a GRDB `DatabasePool` (one writer,
/// concurrent readers), migrated on open.
public struct SQLiteCatalogStore: CatalogStore {
    let pool: DatabasePool

    /// Opens (creating when needed) and migrates the database at `path`.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Another process (`encore admin create`) may hold the write lock for a moment.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // 8 KiB pages for new databases (SQLite's default is 4): shallower B-trees for the search postings;
            // measured on the 1M-track import, 19.9k → 21.7k tracks/s with query latency unchanged. An existing
            // database keeps the page size it was created with.
            try db.execute(sql: "PRAGMA page_size = 8192")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Schema.migrator.migrate(pool)
    }

    static func corrupt(_ what: String) -> EncoreError {
        EncoreError(.internalFailure, code: "corrupt_row", message: "Unexpected stored value: \(what)")
    }

    public func ping() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    // MARK: Users

    public func insertUser(_ user: User, passwordHash: String) async throws {
        try await write { db in try UserRecord(user, passwordHash: passwordHash).insert(db) }
    }

    public func user(id: UUID) async throws -> User? {
        try await pool.read { db in try UserRecord.fetchOne(db, key: id)?.domain() }
    }

    public func credentials(email: String) async throws -> (user: User, passwordHash: String)? {
        try await pool.read { db in
            guard let record = try UserRecord.filter(Column("email") == email).fetchOne(db) else { return nil }
            return (try record.domain(), record.passwordHash)
        }
    }

    public func updateUser(id: UUID, newPasswordHash: String?, _ change: @escaping @Sendable (inout User) throws -> Void) async throws -> User {
        try await write { db in
            guard let record = try UserRecord.fetchOne(db, key: id) else { throw EncoreError.notFound("user") }
            var user = try record.domain()
            try change(&user)
            try UserRecord(user, passwordHash: newPasswordHash ?? record.passwordHash).update(db)
            return user
        }
    }

    public func deleteUser(id: UUID) async throws -> [UUID] {
        try await write { db in
            let keys = try Self.trackIds(db, whereClause: "artistId IN (SELECT id FROM artist WHERE ownerId = ?)", id)
            let artists = try UUID.fetchAll(db, sql: "SELECT id FROM artist WHERE ownerId = ?", arguments: [id])
            let albums = try UUID.fetchAll(
                db, sql: "SELECT id FROM album WHERE artistId IN (SELECT id FROM artist WHERE ownerId = ?)", arguments: [id])
            try SearchIndexer.remove(artists + albums + keys, db)
            guard try UserRecord.deleteOne(db, key: id) else { throw EncoreError.notFound("user") }
            return keys
        }
    }

    // MARK: Artists

    public func insertArtist(_ artist: Artist) async throws {
        try await write { db in
            try ArtistRecord(artist).insert(db)
            try SearchIndexer.indexArtist(artist.id, db)
        }
    }

    public func artist(id: UUID) async throws -> Artist? {
        try await pool.read { db in try ArtistRecord.fetchOne(db, key: id)?.domain }
    }

    public func artists(ownerId: UUID?, page: PageRequest) async throws -> Page<Artist> {
        try await pool.read { db in
            var request = ArtistRecord.all()
            if let ownerId { request = request.filter(Column("ownerId") == ownerId) }
            let rows = try request.order(Column("name").collating(.nocase), Column("id"))
                .limit(page.limit + 1, offset: page.offset).fetchAll(db)
            return Page(fetched: rows.map(\.domain), request: page)
        }
    }

    public func updateArtist(id: UUID, _ change: @escaping @Sendable (inout Artist) throws -> Void) async throws -> Artist {
        try await write { db in
            guard var artist = try ArtistRecord.fetchOne(db, key: id)?.domain else { throw EncoreError.notFound("artist") }
            let before = artist
            try change(&artist)
            try ArtistRecord(artist).update(db)
            if artist.name != before.name { try SearchIndexer.indexArtistTree(id, db) }
            return artist
        }
    }

    public func deleteArtist(id: UUID) async throws -> [UUID] {
        try await write { db in
            let keys = try Self.trackIds(db, whereClause: "artistId = ?", id)
            let albums = try UUID.fetchAll(db, sql: "SELECT id FROM album WHERE artistId = ?", arguments: [id])
            try SearchIndexer.remove([id] + albums + keys, db)
            guard try ArtistRecord.deleteOne(db, key: id) else { throw EncoreError.notFound("artist") }
            return keys
        }
    }

    // MARK: Albums

    public func insertAlbum(_ album: Album) async throws {
        try await write { db in
            try AlbumRecord(album).insert(db)
            try SearchIndexer.indexAlbum(album.id, db)
        }
    }

    public func album(id: UUID) async throws -> Album? {
        try await pool.read { db in try AlbumRecord.fetchOne(db, key: id)?.domain }
    }

    public func albums(artistId: UUID, page: PageRequest) async throws -> Page<Album> {
        try await pool.read { db in
            let rows = try AlbumRecord.filter(Column("artistId") == artistId)
                .order(Column("releaseDate").ascNullsLast, Column("createdAt"), Column("id"))
                .limit(page.limit + 1, offset: page.offset).fetchAll(db)
            return Page(fetched: rows.map(\.domain), request: page)
        }
    }

    public func updateAlbum(id: UUID, _ change: @escaping @Sendable (inout Album) throws -> Void) async throws -> Album {
        try await write { db in
            guard var album = try AlbumRecord.fetchOne(db, key: id)?.domain else { throw EncoreError.notFound("album") }
            let before = album
            try change(&album)
            try AlbumRecord(album).update(db)
            if album.title != before.title {
                try SearchIndexer.indexAlbum(id, db)
                for track in try UUID.fetchAll(db, sql: "SELECT id FROM track WHERE albumId = ?", arguments: [id]) {
                    try SearchIndexer.indexTrack(track, db)
                }
            }
            return album
        }
    }

    public func deleteAlbum(id: UUID) async throws -> [UUID] {
        try await write { db in
            let keys = try Self.trackIds(db, whereClause: "albumId = ?", id)
            try SearchIndexer.remove([id] + keys, db)
            guard try AlbumRecord.deleteOne(db, key: id) else { throw EncoreError.notFound("album") }
            return keys
        }
    }

    // MARK: Tracks

    public func insertTrack(_ track: Track, job: JobRequest?) async throws -> Track {
        try await write { db in
            if let job { _ = try JobRecord.insert(job, now: Date(), into: db) }
            var track = track
            if track.trackNumber == 0 {
                let highest = try Int.fetchOne(db, sql: "SELECT MAX(trackNumber) FROM track WHERE albumId = ?", arguments: [track.albumId])
                track.trackNumber = (highest ?? 0) + 1
            }
            try TrackRecord(track).insert(db)
            try SearchIndexer.indexTrack(track.id, db)
            return track
        }
    }

    public func track(id: UUID) async throws -> Track? {
        try await pool.read { db in try TrackRecord.fetchOne(db, key: id)?.domain() }
    }

    public func tracks(albumId: UUID, page: PageRequest) async throws -> Page<Track> {
        try await pool.read { db in
            let rows = try TrackRecord.filter(Column("albumId") == albumId).order(Column("trackNumber"))
                .limit(page.limit + 1, offset: page.offset).fetchAll(db)
            return Page(fetched: try rows.map { try $0.domain() }, request: page)
        }
    }

    public func updateTrack(
        id: UUID, job: JobRequest?, _ change: @escaping @Sendable (inout Track) throws -> Void
    ) async throws -> (
        before: Track, after: Track
    ) {
        try await write { db in
            guard let before = try TrackRecord.fetchOne(db, key: id)?.domain() else { throw EncoreError.notFound("track") }
            var after = before
            try change(&after)
            try TrackRecord(after).update(db)
            if after.title != before.title || after.albumId != before.albumId { try SearchIndexer.indexTrack(id, db) }
            if let job { _ = try JobRecord.insert(job, now: Date(), into: db) }
            return (before, after)
        }
    }

    public func finishProcessing(trackId: UUID, sourceKey: BlobKey, outcome: ProcessingOutcome) async throws -> (before: Track, after: Track)? {
        try await write { db in
            guard let before = try TrackRecord.fetchOne(db, key: trackId)?.domain(), before.sourceKey == sourceKey else { return nil }
            var after = before
            after.sourceKey = nil
            after.updatedAt = Date()
            switch outcome {
            case .ready(let media, let audio, let fingerprint, let linkedTrackId):
                after.media = media
                after.audio = audio
                after.durationMs = audio.durationMs
                after.status = .ready
                after.failure = nil
                after.linkedTrackId = linkedTrackId
                try FingerprintRecord(trackId: trackId, artistId: before.artistId, fingerprint: fingerprint).upsert(db)
            case .failed(let failure):
                after.failure = failure
                // A failed replacement leaves the previous media playing.
                after.status = before.media == nil ? .failed : .ready
            }
            try TrackRecord(after).update(db)
            return (before, after)
        }
    }

    public func fingerprintCandidates(durationSeconds: Double, tolerance: Double, excludingTrack: UUID) async throws -> [FingerprintCandidate] {
        try await pool.read { db in
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

    public func deleteTrack(id: UUID) async throws -> Track? {
        try await write { db in
            guard let track = try TrackRecord.fetchOne(db, key: id)?.domain() else { return nil }
            try SearchIndexer.remove([id], db)
            try TrackRecord.deleteOne(db, key: id)
            return track
        }
    }

    // MARK: Playlists

    public func insertPlaylist(_ playlist: Playlist) async throws {
        try await write { db in try PlaylistRecord(playlist).insert(db) }
    }

    public func playlist(id: UUID) async throws -> Playlist? {
        try await pool.read { db in try Self.playlist(db, id: id) }
    }

    public func playlists(ownerId: UUID, page: PageRequest) async throws -> Page<Playlist> {
        try await pool.read { db in
            let rows = try PlaylistRecord.filter(Column("ownerId") == ownerId).order(Column("createdAt"), Column("id"))
                .limit(page.limit + 1, offset: page.offset).fetchAll(db)
            let playlists = try rows.map { $0.domain(trackCount: try Self.trackCount(db, playlistId: $0.id)) }
            return Page(fetched: playlists, request: page)
        }
    }

    public func updatePlaylist(id: UUID, _ change: @escaping @Sendable (inout Playlist) throws -> Void) async throws -> Playlist {
        try await write { db in
            guard var playlist = try Self.playlist(db, id: id) else { throw EncoreError.notFound("playlist") }
            try change(&playlist)
            try PlaylistRecord(playlist).update(db)
            return playlist
        }
    }

    public func deletePlaylist(id: UUID) async throws -> Bool {
        try await write { db in try PlaylistRecord.deleteOne(db, key: id) }
    }

    public func playlistEntries(playlistId: UUID, page: PageRequest) async throws -> Page<PlaylistEntry> {
        try await pool.read { db in
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

    public func updatePlaylistSlots(playlistId: UUID, _ change: @escaping @Sendable (inout [PlaylistSlot]) throws -> Void) async throws -> Playlist {
        try await write { db in
            guard var playlist = try Self.playlist(db, id: playlistId) else { throw EncoreError.notFound("playlist") }
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

    // MARK: Look-ups by id

    public func artists(ids: [UUID]) async throws -> [UUID: Artist] {
        try await pool.read { db in
            Dictionary(uniqueKeysWithValues: try ArtistRecord.fetchAll(db, keys: ids).map { ($0.id, $0.domain) })
        }
    }

    public func albums(ids: [UUID]) async throws -> [UUID: Album] {
        try await pool.read { db in
            Dictionary(uniqueKeysWithValues: try AlbumRecord.fetchAll(db, keys: ids).map { ($0.id, $0.domain) })
        }
    }

    public func tracks(ids: [UUID]) async throws -> [UUID: Track] {
        try await pool.read { db in
            Dictionary(uniqueKeysWithValues: try TrackRecord.fetchAll(db, keys: ids).map { ($0.id, try $0.domain()) })
        }
    }

    // MARK: Plays

    public func recordPlay(_ event: PlayEvent) async throws {
        try await write { db in
            try PlayEventRecord(userId: event.userId, trackId: event.trackId, playedAt: event.playedAt).insert(db)
            if let row = try Row.fetchOne(db, sql: "SELECT albumId, artistId FROM track WHERE id = ?", arguments: [event.trackId]) {
                try SearchIndexer.recordPlay([event.trackId, row["albumId"], row["artistId"]], at: event.playedAt, db)
            }
        }
    }

    public func playCount(trackId: UUID) async throws -> Int {
        try await pool.read { db in try PlayEventRecord.filter(Column("trackId") == trackId).fetchCount(db) }
    }

    // MARK: Helpers

    private static func playlist(_ db: Database, id: UUID) throws -> Playlist? {
        guard let record = try PlaylistRecord.fetchOne(db, key: id) else { return nil }
        return record.domain(trackCount: try trackCount(db, playlistId: id))
    }

    private static func trackCount(_ db: Database, playlistId: UUID) throws -> Int {
        try PlaylistEntryRecord.filter(Column("playlistId") == playlistId).fetchCount(db)
    }

    private static func trackIds(_ db: Database, whereClause: String, _ id: UUID) throws -> [UUID] {
        try UUID.fetchAll(db, sql: "SELECT id FROM track WHERE \(whereClause) ORDER BY id", arguments: [id])
    }

    /// A write transaction whose constraint violations come back as domain conflicts.
    private func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw Self.conflict(from: error)
        }
    }

    static func conflict(from error: DatabaseError) -> EncoreError {
        let message = error.message ?? ""
        if message.contains("user.email") { return .conflict("email_taken", "An account with that email exists already.") }
        if message.contains("track.albumId, track.trackNumber") {
            return .conflict("track_number_taken", "Another track of that album has that trackNumber.")
        }
        if message.contains("track.sourceKey") { return .conflict("upload_already_used", "That upload belongs to another track.") }
        if message.contains("FOREIGN KEY") { return .conflict("reference_missing", "A referenced item no longer exists.") }
        return .conflict("conflict", "The change conflicts with the current state.")
    }
}
