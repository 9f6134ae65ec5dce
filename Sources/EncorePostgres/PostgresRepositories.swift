import EncoreCore
import Foundation
import PostgresNIO

// The PostgreSQL repositories: each runs its statements through an executor, so the same code serves calls
// on their own and calls inside a `PostgresDataStore.transaction`. Read-modify-write calls lock the row
// they change (`FOR UPDATE`), so that concurrent instances apply their changes one after the other.

struct PostgresAccounts: AccountRepository {
    let executor: PostgresExecutor

    func insertUser(_ user: User, passwordHash: String) async throws {
        try await executor.write { connection in
            try await connection.run(
                """
                INSERT INTO app_user (id, email, password_hash, display_name, role, created_at, updated_at)
                VALUES (\(user.id), \(user.email), \(passwordHash), \(user.displayName), \(user.role.rawValue), \(user.createdAt.stored),
                        \(user.updatedAt.stored))
                """)
        }
    }

    func user(id: UUID) async throws -> User? {
        try await executor.readPrimary { connection in
            try await connection.row("SELECT \(unescaped: PostgresRecords.userColumns) FROM app_user WHERE id = \(id)").map(PostgresRecords.user)
        }
    }

    func credentials(email: String) async throws -> (user: User, passwordHash: String)? {
        try await executor.readPrimary { connection -> Credentials? in
            guard let row = try await connection.row("SELECT \(unescaped: PostgresRecords.userColumns) FROM app_user WHERE email = \(email)")
            else { return nil }
            return Credentials(user: try PostgresRecords.user(row), passwordHash: try row.value("password_hash"))
        }.map { ($0.user, $0.passwordHash) }
    }

    func updateUser(id: UUID, newPasswordHash: String?, _ change: @escaping @Sendable (inout User) throws -> Void) async throws -> User {
        try await executor.write { connection in
            guard let row = try await connection.row("SELECT \(unescaped: PostgresRecords.userColumns) FROM app_user WHERE id = \(id) FOR UPDATE")
            else { throw EncoreError.notFound(.userNotFound) }
            var user = try PostgresRecords.user(row)
            try change(&user)
            let hash = try newPasswordHash ?? row.value("password_hash", as: String.self)
            try await connection.run(
                """
                UPDATE app_user SET email = \(user.email), password_hash = \(hash), display_name = \(user.displayName),
                    role = \(user.role.rawValue), updated_at = \(user.updatedAt.stored) WHERE id = \(id)
                """)
            return user
        }
    }

    func deleteUser(id: UUID) async throws -> Removed {
        try await executor.write { connection in
            let removed = Removed(
                artistIds: try await ids(connection, "SELECT id FROM artist WHERE owner_id = \(id)"),
                albumIds: try await ids(
                    connection, "SELECT album.id FROM album JOIN artist ON artist.id = album.artist_id WHERE artist.owner_id = \(id)"),
                trackIds: try await ids(
                    connection,
                    "SELECT track.id FROM track JOIN artist ON artist.id = track.artist_id WHERE artist.owner_id = \(id) ORDER BY track.id"))
            guard try await !connection.rows("DELETE FROM app_user WHERE id = \(id) RETURNING id").isEmpty else {
                throw EncoreError.notFound(.userNotFound)
            }
            return removed
        }
    }
}

/// A user with their hash, as one Sendable value.
private struct Credentials: Sendable {
    var user: User
    var passwordHash: String
}

// Reads by id of artists, albums and tracks (like accounts) go to the primary: they are what the read cache
// holds, and a cache refilled from a replica after the primary announced a change would keep the replica's
// older row. The cache takes the load off the primary; listings and search go to the replicas.
struct PostgresCatalog: CatalogRepository {
    let executor: PostgresExecutor

    func insertArtist(_ artist: Artist) async throws {
        try await executor.write { connection in
            try await connection.run(
                """
                INSERT INTO artist (id, owner_id, name, sort_name, bio, country, created_at, updated_at)
                VALUES (\(artist.id), \(artist.ownerId), \(artist.name), \(artist.name.libraryOrderKey), \(artist.bio), \(artist.country),
                        \(artist.createdAt.stored), \(artist.updatedAt.stored))
                """)
        }
    }

    func artist(id: UUID) async throws -> Artist? {
        try await executor.readPrimary { connection in
            try await connection.row("SELECT \(unescaped: PostgresRecords.artistColumns) FROM artist WHERE id = \(id)").map(PostgresRecords.artist)
        }
    }

    func artists(ownerId: UUID?, page: PageRequest) async throws -> Page<Artist> {
        try await executor.read { connection in
            // Ordered as SQLite's `name COLLATE NOCASE, id`: case folded, then id.
            let rows = try await connection.rows(
                """
                SELECT \(unescaped: PostgresRecords.artistColumns) FROM artist
                WHERE \(ownerId)::uuid IS NULL OR owner_id = \(ownerId)
                ORDER BY lower(name) COLLATE "C", id LIMIT \(page.limit + 1) OFFSET \(page.offset)
                """)
            return Page(fetched: try rows.map(PostgresRecords.artist), request: page)
        }
    }

    func artists(ids: [UUID]) async throws -> [UUID: Artist] {
        guard !ids.isEmpty else { return [:] }
        return try await executor.readPrimary { connection in
            let rows = try await connection.rows("SELECT \(unescaped: PostgresRecords.artistColumns) FROM artist WHERE id = ANY(\(ids))")
            return Dictionary(uniqueKeysWithValues: try rows.map(PostgresRecords.artist).map { ($0.id, $0) })
        }
    }

    func updateArtist(id: UUID, _ change: @escaping @Sendable (inout Artist) throws -> Void) async throws -> (before: Artist, after: Artist) {
        let result = try await executor.write { connection -> Change<Artist> in
            guard let row = try await connection.row("SELECT \(unescaped: PostgresRecords.artistColumns) FROM artist WHERE id = \(id) FOR UPDATE")
            else { throw EncoreError.notFound(.artistNotFound) }
            let before = try PostgresRecords.artist(row)
            var artist = before
            try change(&artist)
            try await connection.run(
                """
                UPDATE artist SET owner_id = \(artist.ownerId), name = \(artist.name), sort_name = \(artist.name.libraryOrderKey),
                    bio = \(artist.bio), country = \(artist.country), updated_at = \(artist.updatedAt.stored) WHERE id = \(id)
                """)
            return Change(before: before, after: artist)
        }
        return (result.before, result.after)
    }

    func deleteArtist(id: UUID) async throws -> Removed {
        try await executor.write { connection in
            let removed = Removed(
                artistIds: [id], albumIds: try await ids(connection, "SELECT id FROM album WHERE artist_id = \(id)"),
                trackIds: try await ids(connection, "SELECT id FROM track WHERE artist_id = \(id) ORDER BY id"))
            guard try await !connection.rows("DELETE FROM artist WHERE id = \(id) RETURNING id").isEmpty else {
                throw EncoreError.notFound(.artistNotFound)
            }
            return removed
        }
    }

    func insertAlbum(_ album: Album) async throws {
        let cover = try storedJSON(album.cover)
        try await executor.write { connection in
            try await connection.run(
                """
                INSERT INTO album (id, artist_id, title, sort_title, genre, release_date, cover, created_at, updated_at)
                VALUES (\(album.id), \(album.artistId), \(album.title), \(album.title.libraryOrderKey), \(album.genre), \(album.releaseDate),
                        \(cover), \(album.createdAt.stored), \(album.updatedAt.stored))
                """)
        }
    }

    func album(id: UUID) async throws -> Album? {
        try await executor.readPrimary { connection in
            try await connection.row("SELECT \(unescaped: PostgresRecords.albumColumns) FROM album WHERE id = \(id)").map(PostgresRecords.album)
        }
    }

    func albums(artistId: UUID, page: PageRequest) async throws -> Page<Album> {
        try await executor.read { connection in
            let rows = try await connection.rows(
                """
                SELECT \(unescaped: PostgresRecords.albumColumns) FROM album WHERE artist_id = \(artistId)
                ORDER BY release_date COLLATE "C" ASC NULLS LAST, created_at, id LIMIT \(page.limit + 1) OFFSET \(page.offset)
                """)
            return Page(fetched: try rows.map(PostgresRecords.album), request: page)
        }
    }

    func albums(ids: [UUID]) async throws -> [UUID: Album] {
        guard !ids.isEmpty else { return [:] }
        return try await executor.readPrimary { connection in
            let rows = try await connection.rows("SELECT \(unescaped: PostgresRecords.albumColumns) FROM album WHERE id = ANY(\(ids))")
            return Dictionary(uniqueKeysWithValues: try rows.map(PostgresRecords.album).map { ($0.id, $0) })
        }
    }

    func updateAlbum(id: UUID, _ change: @escaping @Sendable (inout Album) throws -> Void) async throws -> (before: Album, after: Album) {
        let result = try await executor.write { connection -> Change<Album> in
            guard let row = try await connection.row("SELECT \(unescaped: PostgresRecords.albumColumns) FROM album WHERE id = \(id) FOR UPDATE")
            else { throw EncoreError.notFound(.albumNotFound) }
            let before = try PostgresRecords.album(row)
            var album = before
            try change(&album)
            let cover = try storedJSON(album.cover)
            try await connection.run(
                """
                UPDATE album SET artist_id = \(album.artistId), title = \(album.title), sort_title = \(album.title.libraryOrderKey),
                    genre = \(album.genre), release_date = \(album.releaseDate), cover = \(cover), updated_at = \(album.updatedAt.stored)
                WHERE id = \(id)
                """)
            return Change(before: before, after: album)
        }
        return (result.before, result.after)
    }

    func deleteAlbum(id: UUID) async throws -> Removed {
        try await executor.write { connection in
            let removed = Removed(albumIds: [id], trackIds: try await ids(connection, "SELECT id FROM track WHERE album_id = \(id) ORDER BY id"))
            guard try await !connection.rows("DELETE FROM album WHERE id = \(id) RETURNING id").isEmpty else {
                throw EncoreError.notFound(.albumNotFound)
            }
            return removed
        }
    }
}

/// A value before and after a change, as one Sendable value.
private struct Change<Value: Sendable>: Sendable {
    var before: Value
    var after: Value
}

struct PostgresTracks: TrackRepository {
    let executor: PostgresExecutor

    func insertTrack(_ track: Track) async throws -> Track {
        try await executor.write { connection in
            var track = track
            if track.trackNumber == 0 {
                // The album's row lock makes concurrent inserts into one album take turns, so that each sees
                // the number the one before it took.
                guard try await connection.row("SELECT id FROM album WHERE id = \(track.albumId) FOR UPDATE") != nil else {
                    throw EncoreError(.referenceMissing, "A referenced item no longer exists.")
                }
                let highest =
                    try await connection.row("SELECT max(track_number) AS highest FROM track WHERE album_id = \(track.albumId)")?
                    .value("highest", as: Int?.self) ?? 0
                guard highest < Validate.maxTrackNumber else {
                    throw EncoreError(.trackNumberTaken, "The album's last track number (\(Validate.maxTrackNumber)) is taken; give a trackNumber.")
                }
                track.trackNumber = highest + 1
            }
            try await Self.insert(track, connection)
            return track
        }
    }

    static func insert(_ track: Track, _ connection: PostgresConnection) async throws {
        let audio = try storedJSON(track.audio)
        let media = try storedJSON(track.media)
        try await connection.run(
            """
            INSERT INTO track (id, album_id, artist_id, title, track_number, duration_ms, status, audio, media, source_key, failure_code,
                               failure_message, linked_track_id, created_at, updated_at)
            VALUES (\(track.id), \(track.albumId), \(track.artistId), \(track.title), \(track.trackNumber), \(track.durationMs),
                    \(track.status.rawValue), \(audio), \(media), \(track.sourceKey?.rawValue), \(track.failure?.code), \(track.failure?.message),
                    \(track.linkedTrackId), \(track.createdAt.stored), \(track.updatedAt.stored))
            """)
    }

    func track(id: UUID) async throws -> Track? {
        try await executor.readPrimary { connection in
            try await connection.row("SELECT \(unescaped: PostgresRecords.trackColumns) FROM track WHERE id = \(id)").map(PostgresRecords.track)
        }
    }

    func tracks(ids: [UUID]) async throws -> [UUID: Track] {
        guard !ids.isEmpty else { return [:] }
        return try await executor.readPrimary { connection in
            let rows = try await connection.rows("SELECT \(unescaped: PostgresRecords.trackColumns) FROM track WHERE id = ANY(\(ids))")
            return Dictionary(uniqueKeysWithValues: try rows.map(PostgresRecords.track).map { ($0.id, $0) })
        }
    }

    func tracks(albumId: UUID, page: PageRequest) async throws -> Page<Track> {
        try await executor.read { connection in
            let rows = try await connection.rows(
                """
                SELECT \(unescaped: PostgresRecords.trackColumns) FROM track WHERE album_id = \(albumId)
                ORDER BY track_number LIMIT \(page.limit + 1) OFFSET \(page.offset)
                """)
            return Page(fetched: try rows.map(PostgresRecords.track), request: page)
        }
    }

    func updateTrack(id: UUID, _ change: @escaping @Sendable (inout Track) throws -> Void) async throws -> (before: Track, after: Track) {
        let result = try await executor.write { connection -> Change<Track> in
            guard let row = try await connection.row("SELECT \(unescaped: PostgresRecords.trackColumns) FROM track WHERE id = \(id) FOR UPDATE")
            else { throw EncoreError.notFound(.trackNotFound) }
            let before = try PostgresRecords.track(row)
            var after = before
            try change(&after)
            let audio = try storedJSON(after.audio)
            let media = try storedJSON(after.media)
            try await connection.run(
                """
                UPDATE track SET album_id = \(after.albumId), artist_id = \(after.artistId), title = \(after.title),
                    track_number = \(after.trackNumber), duration_ms = \(after.durationMs), status = \(after.status.rawValue), audio = \(audio),
                    media = \(media), source_key = \(after.sourceKey?.rawValue), failure_code = \(after.failure?.code),
                    failure_message = \(after.failure?.message), linked_track_id = \(after.linkedTrackId), updated_at = \(after.updatedAt.stored)
                WHERE id = \(id)
                """)
            return Change(before: before, after: after)
        }
        return (result.before, result.after)
    }

    func saveFingerprint(_ fingerprint: AudioFingerprint, trackId: UUID, artistId: UUID) async throws {
        let raw = PostgresRecords.fingerprintBytes(fingerprint)
        try await executor.write { connection in
            try await connection.run(
                """
                INSERT INTO fingerprint (track_id, artist_id, duration_seconds, raw) VALUES (\(trackId), \(artistId), \(fingerprint.durationSeconds), \(raw))
                ON CONFLICT (track_id) DO UPDATE SET artist_id = excluded.artist_id, duration_seconds = excluded.duration_seconds, raw = excluded.raw
                """)
        }
    }

    func fingerprintCandidates(durationSeconds: Double, tolerance: Double, excludingTrack: UUID) async throws -> [FingerprintCandidate] {
        try await executor.read { connection in
            let rows = try await connection.rows(
                """
                SELECT f.track_id, f.artist_id, f.duration_seconds, f.raw FROM fingerprint f JOIN track t ON t.id = f.track_id
                WHERE f.duration_seconds BETWEEN \(durationSeconds - tolerance) AND \(durationSeconds + tolerance)
                  AND f.track_id <> \(excludingTrack) AND t.status = 'ready'
                """)
            return try rows.map { row in
                FingerprintCandidate(
                    trackId: try row.value("track_id"), artistId: try row.value("artist_id"),
                    fingerprint: PostgresRecords.fingerprint(raw: try row.value("raw"), durationSeconds: try row.value("duration_seconds")))
            }
        }
    }

    func deleteTrack(id: UUID) async throws -> Track? {
        try await executor.write { connection in
            try await connection.row("DELETE FROM track WHERE id = \(id) RETURNING \(unescaped: PostgresRecords.trackColumns)").map(
                PostgresRecords.track)
        }
    }
}

struct PostgresPlaylists: PlaylistRepository {
    let executor: PostgresExecutor

    static let columns =
        "id, owner_id, title, is_public, created_at, updated_at, (SELECT count(*) FROM playlist_entry WHERE playlist_id = playlist.id) AS track_count"

    static func playlist(_ row: PostgresRandomAccessRow) throws -> Playlist {
        Playlist(
            id: try row.value("id"), ownerId: try row.value("owner_id"), title: try row.value("title"), isPublic: try row.value("is_public"),
            trackCount: try row.value("track_count"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    func insertPlaylist(_ playlist: Playlist) async throws {
        try await executor.write { connection in
            try await connection.run(
                """
                INSERT INTO playlist (id, owner_id, title, is_public, created_at, updated_at)
                VALUES (\(playlist.id), \(playlist.ownerId), \(playlist.title), \(playlist.isPublic), \(playlist.createdAt.stored),
                        \(playlist.updatedAt.stored))
                """)
        }
    }

    func playlist(id: UUID) async throws -> Playlist? {
        try await executor.read { connection in
            try await connection.row("SELECT \(unescaped: Self.columns) FROM playlist WHERE id = \(id)").map(Self.playlist)
        }
    }

    func playlists(ownerId: UUID, page: PageRequest) async throws -> Page<Playlist> {
        try await executor.read { connection in
            let rows = try await connection.rows(
                """
                SELECT \(unescaped: Self.columns) FROM playlist WHERE owner_id = \(ownerId)
                ORDER BY created_at, id LIMIT \(page.limit + 1) OFFSET \(page.offset)
                """)
            return Page(fetched: try rows.map(Self.playlist), request: page)
        }
    }

    func updatePlaylist(id: UUID, _ change: @escaping @Sendable (inout Playlist) throws -> Void) async throws -> Playlist {
        try await executor.write { connection in
            guard let row = try await connection.row("SELECT \(unescaped: Self.columns) FROM playlist WHERE id = \(id) FOR UPDATE") else {
                throw EncoreError.notFound(.playlistNotFound)
            }
            var playlist = try Self.playlist(row)
            try change(&playlist)
            try await Self.update(playlist, connection)
            return playlist
        }
    }

    static func update(_ playlist: Playlist, _ connection: PostgresConnection) async throws {
        try await connection.run(
            """
            UPDATE playlist SET owner_id = \(playlist.ownerId), title = \(playlist.title), is_public = \(playlist.isPublic),
                updated_at = \(playlist.updatedAt.stored) WHERE id = \(playlist.id)
            """)
    }

    func deletePlaylist(id: UUID) async throws -> Bool {
        try await executor.write { connection in try await !connection.rows("DELETE FROM playlist WHERE id = \(id) RETURNING id").isEmpty }
    }

    func playlistEntries(playlistId: UUID, page: PageRequest) async throws -> Page<PlaylistEntry> {
        try await executor.read { connection in
            let rows = try await connection.rows(
                """
                SELECT row_number() OVER (ORDER BY e.ordinal) - 1 AS position, e.added_at AS entry_added_at, \(unescaped: PostgresRecords.trackColumns)
                FROM playlist_entry e JOIN track ON track.id = e.track_id
                WHERE e.playlist_id = \(playlistId) ORDER BY e.ordinal LIMIT \(page.limit + 1) OFFSET \(page.offset)
                """)
            let entries = try rows.map { row in
                PlaylistEntry(position: try row.value("position"), track: try PostgresRecords.track(row), addedAt: try row.date("entry_added_at"))
            }
            return Page(fetched: entries, request: page)
        }
    }

    func updatePlaylistSlots(playlistId: UUID, _ change: @escaping @Sendable (inout [PlaylistSlot]) throws -> Void) async throws -> Playlist {
        try await executor.write { connection in
            guard let row = try await connection.row("SELECT \(unescaped: Self.columns) FROM playlist WHERE id = \(playlistId) FOR UPDATE") else {
                throw EncoreError.notFound(.playlistNotFound)
            }
            var playlist = try Self.playlist(row)
            var slots = try await connection.rows(
                "SELECT track_id, added_at FROM playlist_entry WHERE playlist_id = \(playlistId) ORDER BY ordinal"
            ).map { PlaylistSlot(trackId: try $0.value("track_id"), addedAt: try $0.date("added_at")) }
            try change(&slots)
            try await connection.run("DELETE FROM playlist_entry WHERE playlist_id = \(playlistId)")
            if !slots.isEmpty {
                let tracks = slots.map(\.trackId)
                let added = slots.map(\.addedAt.stored)
                try await connection.run(
                    """
                    INSERT INTO playlist_entry (playlist_id, ordinal, track_id, added_at)
                    SELECT \(playlistId), slot.ordinal - 1, slot.track_id, slot.added_at
                    FROM unnest(\(tracks)::uuid[], \(added)::float8[]) WITH ORDINALITY AS slot(track_id, added_at, ordinal)
                    """)
            }
            playlist.trackCount = slots.count
            playlist.updatedAt = Date()
            try await Self.update(playlist, connection)
            return playlist
        }
    }
}

struct PostgresPlays: PlayRepository {
    let executor: PostgresExecutor

    func recordPlay(_ play: Play) async throws -> (play: Play, recorded: Bool) {
        let result = try await executor.write { connection -> RecordedPlay in
            // Inserted unless the id exists; a report sent twice at once lands once, and both see the stored play.
            let inserted = try await connection.rows(
                """
                INSERT INTO play (id, user_id, track_id, played_at, ms_played, counts)
                VALUES (\(play.id), \(play.userId), \(play.trackId), \(play.playedAt.stored), \(play.msPlayed), \(play.counts))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """)
            if !inserted.isEmpty { return RecordedPlay(play: play, recorded: true) }
            guard let row = try await connection.row("SELECT \(unescaped: PostgresRecords.playColumns) FROM play WHERE id = \(play.id)") else {
                throw EncoreError(.storageUnavailable, "The play changed while it was recorded; try again.")
            }
            let stored = try PostgresRecords.play(row)
            guard stored.userId == play.userId else { throw EncoreError(.playIdTaken, "Another user's play has that playId.") }
            return RecordedPlay(play: stored, recorded: false)
        }
        return (result.play, result.recorded)
    }

    func playCount(trackId: UUID) async throws -> Int {
        try await executor.read { connection in
            try await connection.row("SELECT count(*) AS plays FROM play WHERE track_id = \(trackId) AND counts")?.value("plays") ?? 0
        }
    }

    func lastPlayed(userId: UUID, trackIds: [UUID]) async throws -> [UUID: Date] {
        guard !trackIds.isEmpty else { return [:] }
        return try await executor.read { connection in
            let rows = try await connection.rows(
                "SELECT track_id, max(played_at) AS last FROM play WHERE user_id = \(userId) AND track_id = ANY(\(trackIds)) GROUP BY track_id")
            var dates: [UUID: Date] = [:]
            for row in rows { dates[try row.value("track_id")] = try row.date("last") }
            return dates
        }
    }

    func history(userId: UUID, page: PageRequest) async throws -> Page<Play> {
        try await executor.read { connection in
            let rows = try await connection.rows(
                """
                SELECT \(unescaped: PostgresRecords.playColumns) FROM play WHERE user_id = \(userId)
                ORDER BY played_at DESC, id LIMIT \(page.limit + 1) OFFSET \(page.offset)
                """)
            return Page(fetched: try rows.map(PostgresRecords.play), request: page)
        }
    }
}

private struct RecordedPlay: Sendable {
    var play: Play
    var recorded: Bool
}

struct PostgresAppPasswords: AppPasswordRepository {
    let executor: PostgresExecutor

    static func password(_ row: PostgresRandomAccessRow) throws -> SealedAppPassword {
        SealedAppPassword(
            password: AppPassword(
                id: try row.value("id"), userId: try row.value("user_id"), name: try row.value("name"), createdAt: try row.date("created_at"),
                lastUsedAt: try row.optionalDate("last_used_at")),
            sealedSecret: try row.value("sealed_secret"))
    }

    func insertAppPassword(_ password: AppPassword, sealedSecret: Data, lookupKey: Data) async throws {
        try await executor.write { connection in
            try await connection.run(
                """
                INSERT INTO app_password (id, user_id, name, sealed_secret, lookup_key, created_at, last_used_at)
                VALUES (\(password.id), \(password.userId), \(password.name), \(sealedSecret), \(lookupKey), \(password.createdAt.stored),
                        \(password.lastUsedAt?.stored))
                """)
        }
    }

    func appPasswords(userId: UUID) async throws -> [(password: AppPassword, sealedSecret: Data)] {
        try await executor.readPrimary { connection in
            try await connection.rows(
                "SELECT id, user_id, name, sealed_secret, created_at, last_used_at FROM app_password WHERE user_id = \(userId) ORDER BY created_at, id"
            ).map(Self.password)
        }.map { ($0.password, $0.sealedSecret) }
    }

    func appPassword(lookupKey: Data) async throws -> (password: AppPassword, sealedSecret: Data)? {
        try await executor.readPrimary { connection in
            try await connection.row(
                "SELECT id, user_id, name, sealed_secret, created_at, last_used_at FROM app_password WHERE lookup_key = \(lookupKey)"
            ).map(Self.password)
        }.map { ($0.password, $0.sealedSecret) }
    }

    func deleteAppPassword(id: UUID, userId: UUID) async throws -> Bool {
        try await executor.write { connection in
            try await !connection.rows("DELETE FROM app_password WHERE id = \(id) AND user_id = \(userId) RETURNING id").isEmpty
        }
    }

    func markAppPasswordUsed(id: UUID, at time: Date) async throws {
        try await executor.write { connection in
            try await connection.run("UPDATE app_password SET last_used_at = \(time.stored) WHERE id = \(id)")
        }
    }
}

struct SealedAppPassword: Sendable {
    var password: AppPassword
    var sealedSecret: Data
}

/// Keeps Encore's own index tables in step, in the caller's transaction.
struct PostgresSearchIndexWriter: SearchIndexWriter {
    let executor: PostgresExecutor

    func artistChanged(_ id: UUID, cascade: Bool) async throws {
        try await executor.write { connection in
            cascade ? try await PostgresSearchIndexer.indexArtistTree(id, connection) : try await PostgresSearchIndexer.indexArtist(id, connection)
        }
    }

    func albumChanged(_ id: UUID, cascade: Bool) async throws {
        try await executor.write { connection in
            cascade ? try await PostgresSearchIndexer.indexAlbumTree(id, connection) : try await PostgresSearchIndexer.indexAlbum(id, connection)
        }
    }

    func trackChanged(_ id: UUID) async throws {
        try await executor.write { connection in try await PostgresSearchIndexer.indexTrack(id, connection) }
    }

    func removed(_ ids: [UUID]) async throws {
        guard !ids.isEmpty else { return }
        try await executor.write { connection in try await PostgresSearchIndexer.remove(ids, connection) }
    }

    func played(trackId: UUID, at time: Date) async throws {
        try await executor.write { connection in
            guard let row = try await connection.row("SELECT album_id, artist_id FROM track WHERE id = \(trackId)") else { return }
            try await PostgresSearchIndexer.recordPlay([trackId, try row.value("album_id"), try row.value("artist_id")], at: time, connection)
        }
    }
}

/// The ids a query returns in its first column, `id`.
private func ids(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> [UUID] {
    try await connection.rows(query).map { try $0.value("id", as: UUID.self) }
}
