import EncoreCore
import Foundation
import GRDB

// Listeners' stars, ratings and play queues, and the browsing views over the playable catalog.

struct SQLiteListeners: ListenerRepository {
    let executor: SQLiteExecutor

    func setStarred(_ starred: Bool, item: LibraryItem, userId: UUID, at time: Date) async throws {
        let column = item.kind.column
        try await executor.write { db in
            if starred {
                try requireItem(item, userId: userId, db)
                try db.execute(
                    sql: "INSERT INTO star (userId, \(column), starredAt) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    arguments: [userId, item.id, time.timeIntervalSince1970])
            } else {
                try db.execute(sql: "DELETE FROM star WHERE userId = ? AND \(column) = ?", arguments: [userId, item.id])
            }
        }
    }

    func stars(userId: UUID, kind: LibraryItemKind, page: PageRequest) async throws -> Page<Star> {
        try await executor.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(kind.column) AS itemId, starredAt FROM star WHERE userId = ? AND \(kind.column) IS NOT NULL
                    ORDER BY starredAt DESC, id DESC LIMIT ? OFFSET ?
                    """, arguments: [userId, page.limit + 1, page.offset])
            return Page(
                fetched: rows.map { Star(item: LibraryItem(kind, $0["itemId"]), starredAt: Date(timeIntervalSince1970: $0["starredAt"])) },
                request: page)
        }
    }

    func starDates(userId: UUID, ids: [UUID]) async throws -> [UUID: Date] {
        try await marks("star", value: "starredAt", userId: userId, ids: ids).mapValues { Date(timeIntervalSince1970: $0) }
    }

    /// `value` of the user's rows of `table` (stars or ratings) for any of `ids`, whatever their kind.
    private func marks<Value: DatabaseValueConvertible & Sendable>(
        _ table: String, value: String, userId: UUID, ids: [UUID]
    ) async throws -> [UUID: Value] {
        guard !ids.isEmpty else { return [:] }
        return try await executor.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT coalesce(artistId, albumId, trackId) AS itemId, \(value) AS value FROM \(table)
                    WHERE userId = ? AND coalesce(artistId, albumId, trackId) IN \(ids.inList.sql)
                    """, arguments: [userId] + ids.inList.arguments)
            return Dictionary(rows.map { ($0["itemId"], $0["value"]) }, uniquingKeysWith: { first, _ in first })
        }
    }

    func setRating(_ rating: Int, item: LibraryItem, userId: UUID) async throws {
        let column = item.kind.column
        try await executor.write { db in
            guard rating > 0 else {
                try db.execute(sql: "DELETE FROM rating WHERE userId = ? AND \(column) = ?", arguments: [userId, item.id])
                return
            }
            try requireItem(item, userId: userId, db)
            try db.execute(
                sql: "INSERT INTO rating (userId, \(column), rating) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET rating = excluded.rating",
                arguments: [userId, item.id, rating])
        }
    }

    func ratings(userId: UUID, ids: [UUID]) async throws -> [UUID: Int] {
        try await marks("rating", value: "rating", userId: userId, ids: ids)
    }

    func savePlayQueue(_ queue: PlayQueue) async throws {
        let ids = String(decoding: try JSONEncoder().encode(queue.trackIds.map { $0.uuidString.lowercased() }), as: UTF8.self)
        try await executor.write { db in
            let unique = Array(Set(queue.trackIds))
            let known =
                try Int.fetchOne(db, sql: "SELECT count(*) FROM track WHERE id IN \(unique.inList.sql)", arguments: unique.inList.arguments) ?? 0
            guard known == unique.count else { throw EncoreError(.referenceMissing, "A track of the queue does not exist.") }
            try db.execute(
                sql: """
                    INSERT INTO playQueue (userId, trackIds, currentTrackId, positionMs, changedAt, changedBy) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (userId) DO UPDATE SET trackIds = excluded.trackIds, currentTrackId = excluded.currentTrackId,
                        positionMs = excluded.positionMs, changedAt = excluded.changedAt, changedBy = excluded.changedBy
                    """,
                arguments: [queue.userId, ids, queue.currentTrackId, queue.positionMs, queue.changedAt.timeIntervalSince1970, queue.changedBy])
        }
    }

    func playQueue(userId: UUID) async throws -> PlayQueue? {
        try await executor.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM playQueue WHERE userId = ?", arguments: [userId]) else { return nil }
            let stored = try JSONDecoder().decode([String].self, from: Data((row["trackIds"] as String).utf8)).compactMap(UUID.init(uuidString:))
            let existing = Set(
                try UUID.fetchAll(db, sql: "SELECT id FROM track WHERE id IN \(stored.inList.sql)", arguments: stored.inList.arguments))
            let trackIds = stored.filter(existing.contains)
            let current: UUID? = row["currentTrackId"]
            return PlayQueue(
                userId: userId, trackIds: trackIds, currentTrackId: current.flatMap { existing.contains($0) ? $0 : nil },
                positionMs: row["positionMs"], changedAt: Date(timeIntervalSince1970: row["changedAt"]), changedBy: row["changedBy"])
        }
    }

    private func requireItem(_ item: LibraryItem, userId: UUID, _ db: Database) throws {
        // Checked here rather than left to the foreign key so that a missing item is a clear conflict, not a
        // constraint error after the fact.
        // The kinds are named as their tables are.
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(item.kind.rawValue) WHERE id = ?)", arguments: [item.id]) == true,
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM user WHERE id = ?)", arguments: [userId]) == true
        else { throw EncoreError(.referenceMissing, "A referenced item no longer exists.") }
    }
}

struct SQLiteBrowse: BrowseRepository {
    let executor: SQLiteExecutor

    /// `COLLATE library`: names in the order of ``Swift/String/libraryOrder(_:_:)`` (case and accents folded).
    static let libraryCollation = DatabaseCollation("library") { lhs, rhs in String.libraryOrder(lhs, rhs) }

    /// Album rows with their summary columns (and `extraColumns`), grouped per album by the caller.
    private static func albumSummarySQL(extraColumns: String = "") -> String {
        """
        SELECT album.*, artist.name AS artistName, count(track.id) AS songCount, sum(track.durationMs) AS totalMs,
            (SELECT count(*) FROM play JOIN track AS played ON played.id = play.trackId
             WHERE play.counts AND played.albumId = album.id) AS playCount \(extraColumns)
        FROM album JOIN artist ON artist.id = album.artistId
        JOIN track ON track.albumId = album.id AND track.status = 'ready'
        """
    }

    func albums(_ listing: AlbumListing, page: PageRequest) async throws -> Page<AlbumSummary> {
        // Most listings order by the album's own columns (or a star or rating): the page's albums are chosen
        // first and only they are summed up, so a page costs its own albums, not the whole catalog's. Those
        // ordered by plays need the sums to choose.
        var join = ""
        var filter = "1"
        var order: String
        var arguments: StatementArguments = []
        switch listing {
        case .frequent, .recent:
            return try await albumsOrderedByPlays(listing, page: page)
        case .newest: order = "album.createdAt DESC, album.id"
        case .alphabeticalByName: order = "album.title COLLATE library, album.id"
        case .alphabeticalByArtist: order = "artist.name COLLATE library, album.releaseDate, album.title COLLATE library, album.id"
        case .random: order = "random()"
        case .starred(let userId):
            join = "JOIN star ON star.albumId = album.id AND star.userId = ?"
            arguments += [userId]
            order = "star.starredAt DESC, album.id"
        case .highest(let userId):
            join = "JOIN rating ON rating.albumId = album.id AND rating.userId = ?"
            arguments += [userId]
            order = "rating.rating DESC, album.title COLLATE library, album.id"
        case .byYear(let from, let to):
            filter = "CAST(substr(album.releaseDate, 1, 4) AS INTEGER) BETWEEN ? AND ?"
            arguments += [min(from, to), max(from, to)]
            order = from <= to ? "album.releaseDate, album.id" : "album.releaseDate DESC, album.id"
        case .byGenre(let genre):
            filter = "album.genre = ? COLLATE NOCASE"
            arguments += [genre]
            order = "album.title COLLATE library, album.id"
        case .byArtist(let artistId):
            filter = "album.artistId = ?"
            arguments += [artistId]
            order = "album.releaseDate IS NULL, album.releaseDate, album.createdAt, album.id"
        }
        arguments += [page.limit + 1, page.offset]
        let sql =
            """
            WITH page AS (
                SELECT album.id AS pageId, row_number() OVER (ORDER BY \(order)) AS rank
                FROM album JOIN artist ON artist.id = album.artistId \(join)
                WHERE EXISTS (SELECT 1 FROM track WHERE track.albumId = album.id AND track.status = 'ready') AND \(filter)
                ORDER BY rank LIMIT ? OFFSET ?)
            """ + Self.albumSummarySQL() + " JOIN page ON page.pageId = album.id GROUP BY album.id ORDER BY page.rank"
        let finalArguments = arguments
        return try await executor.read { db in
            Page(fetched: try Row.fetchAll(db, sql: sql, arguments: finalArguments).map { try Self.albumSummary($0) }, request: page)
        }
    }

    /// `frequent` and `recent`: ordered by what the plays add up to.
    private func albumsOrderedByPlays(_ listing: AlbumListing, page: PageRequest) async throws -> Page<AlbumSummary> {
        var extra = ""
        var having: String
        var order: String
        var arguments: StatementArguments = []
        switch listing {
        case .recent(let userId):
            extra =
                ", (SELECT max(play.playedAt) FROM play JOIN track AS mine ON mine.id = play.trackId WHERE play.userId = ? AND mine.albumId = album.id) AS lastPlayed"
            arguments += [userId]
            having = "lastPlayed IS NOT NULL"
            order = "lastPlayed DESC, album.id"
        default:
            having = "playCount > 0"
            order = "playCount DESC, album.title COLLATE library, album.id"
        }
        arguments += [page.limit + 1, page.offset]
        let sql = Self.albumSummarySQL(extraColumns: extra) + " GROUP BY album.id HAVING \(having) ORDER BY \(order) LIMIT ? OFFSET ?"
        let finalArguments = arguments
        return try await executor.read { db in
            Page(fetched: try Row.fetchAll(db, sql: sql, arguments: finalArguments).map { try Self.albumSummary($0) }, request: page)
        }
    }

    func albumSummaries(ids: [UUID]) async throws -> [UUID: AlbumSummary] {
        guard !ids.isEmpty else { return [:] }
        return try await executor.read { db in
            let rows = try Row.fetchAll(
                db, sql: Self.albumSummarySQL() + " WHERE album.id IN \(ids.inList.sql) GROUP BY album.id", arguments: ids.inList.arguments)
            return Dictionary(uniqueKeysWithValues: try rows.map { try Self.albumSummary($0) }.map { ($0.album.id, $0) })
        }
    }

    private static let artistSummarySQL = """
        SELECT artist.*, count(DISTINCT track.albumId) AS albumCount
        FROM artist JOIN track ON track.artistId = artist.id AND track.status = 'ready'
        """

    func artists(starredBy userId: UUID?, page: PageRequest) async throws -> Page<ArtistSummary> {
        try await executor.read { db in
            let rows: [Row]
            if let userId {
                rows = try Row.fetchAll(
                    db,
                    sql: Self.artistSummarySQL + """
                         JOIN star ON star.artistId = artist.id AND star.userId = ?
                        GROUP BY artist.id ORDER BY star.starredAt DESC, artist.id LIMIT ? OFFSET ?
                        """, arguments: [userId, page.limit + 1, page.offset])
            } else {
                rows = try Row.fetchAll(
                    db, sql: Self.artistSummarySQL + " GROUP BY artist.id ORDER BY artist.name COLLATE library, artist.id LIMIT ? OFFSET ?",
                    arguments: [page.limit + 1, page.offset])
            }
            return Page(fetched: try rows.map { try Self.artistSummary($0) }, request: page)
        }
    }

    func allArtists() async throws -> [ArtistSummary] {
        try await executor.read { db in
            try Row.fetchAll(db, sql: Self.artistSummarySQL + " GROUP BY artist.id ORDER BY artist.name COLLATE library, artist.id")
                .map { try Self.artistSummary($0) }
        }
    }

    func artistSummaries(ids: [UUID]) async throws -> [UUID: ArtistSummary] {
        guard !ids.isEmpty else { return [:] }
        return try await executor.read { db in
            let rows = try Row.fetchAll(
                db, sql: Self.artistSummarySQL + " WHERE artist.id IN \(ids.inList.sql) GROUP BY artist.id", arguments: ids.inList.arguments)
            return Dictionary(uniqueKeysWithValues: try rows.map { try Self.artistSummary($0) }.map { ($0.artist.id, $0) })
        }
    }

    func tracks(_ listing: TrackListing, page: PageRequest) async throws -> Page<Track> {
        var sql = "SELECT track.* FROM track"
        var arguments: StatementArguments = []
        switch listing {
        case .all:
            sql += " WHERE track.status = 'ready' ORDER BY track.id"
        case .random(let genre, let fromYear, let toYear):
            sql += " JOIN album ON album.id = track.albumId WHERE track.status = 'ready'"
            if let genre {
                sql += " AND album.genre = ? COLLATE NOCASE"
                arguments += [genre]
            }
            if let fromYear {
                sql += " AND CAST(substr(album.releaseDate, 1, 4) AS INTEGER) >= ?"
                arguments += [fromYear]
            }
            if let toYear {
                sql += " AND CAST(substr(album.releaseDate, 1, 4) AS INTEGER) <= ?"
                arguments += [toYear]
            }
            sql += " ORDER BY random()"
        case .byGenre(let genre):
            sql += """
                 JOIN album ON album.id = track.albumId WHERE track.status = 'ready' AND album.genre = ? COLLATE NOCASE
                ORDER BY album.title COLLATE library, album.id, track.trackNumber
                """
            arguments += [genre]
        case .starred(let userId):
            sql += " JOIN star ON star.trackId = track.id AND star.userId = ? WHERE track.status = 'ready' ORDER BY star.starredAt DESC, track.id"
            arguments += [userId]
        case .mostPlayed:
            sql += """
                 JOIN (SELECT trackId, count(*) AS plays FROM play WHERE counts GROUP BY trackId) AS counted ON counted.trackId = track.id
                WHERE track.status = 'ready' ORDER BY counted.plays DESC, track.id
                """
        }
        sql += " LIMIT ? OFFSET ?"
        arguments += [page.limit + 1, page.offset]
        let (finalSQL, finalArguments) = (sql, arguments)
        return try await executor.read { db in
            Page(fetched: try TrackRecord.fetchAll(db, sql: finalSQL, arguments: finalArguments).map { try $0.domain() }, request: page)
        }
    }

    func genres() async throws -> [GenreSummary] {
        try await executor.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT min(album.genre) AS name, count(DISTINCT album.id) AS albumCount, count(track.id) AS songCount
                    FROM album JOIN track ON track.albumId = album.id AND track.status = 'ready'
                    WHERE album.genre IS NOT NULL AND album.genre <> ''
                    GROUP BY album.genre COLLATE NOCASE ORDER BY album.genre COLLATE NOCASE
                    """
            ).map { GenreSummary(name: $0["name"], albumCount: $0["albumCount"], songCount: $0["songCount"]) }
        }
    }

    func playCounts(trackIds: [UUID]) async throws -> [UUID: Int] {
        guard !trackIds.isEmpty else { return [:] }
        return try await executor.read { db in
            var counts = Dictionary(uniqueKeysWithValues: trackIds.map { ($0, 0) })
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT trackId, count(*) AS plays FROM play WHERE counts AND trackId IN \(trackIds.inList.sql) GROUP BY trackId",
                arguments: trackIds.inList.arguments)
            for row in rows { counts[row["trackId"]] = row["plays"] }
            return counts
        }
    }

    private static func albumSummary(_ row: Row) throws -> AlbumSummary {
        AlbumSummary(
            album: try AlbumRecord(row: row).domain, artistName: row["artistName"], songCount: row["songCount"], durationMs: row["totalMs"] ?? 0,
            playCount: row["playCount"])
    }

    private static func artistSummary(_ row: Row) throws -> ArtistSummary {
        ArtistSummary(artist: try ArtistRecord(row: row).domain, albumCount: row["albumCount"])
    }
}

extension LibraryItemKind {
    /// The star and rating tables' column for this kind.
    fileprivate var column: String {
        switch self {
        case .artist: "artistId"
        case .album: "albumId"
        case .track: "trackId"
        }
    }
}

extension [UUID] {
    /// `(?, ?, …)` for an `IN` list of these ids, with the ids as its arguments.
    fileprivate var inList: (sql: String, arguments: StatementArguments) {
        ("(" + databaseQuestionMarks(count: Swift.max(count, 1)) + ")", StatementArguments(isEmpty ? [UUID?.none] : map { $0 }))
    }
}
