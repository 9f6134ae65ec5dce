import EncoreCore
import Foundation
import PostgresNIO

// Listeners' stars, ratings and play queues, and the browsing views over the playable catalog.
//
// Alphabetical order is the stored `String.libraryOrderKey` (`sort_name`, `sort_title`) compared byte by byte
// (`COLLATE "C"`), then the text itself, then the id: the SQLite store's `COLLATE library`, whatever the
// database's own collation. Release dates are compared byte by byte too, as SQLite compares text.

/// Stars, ratings and saved play queues on PostgreSQL.
struct PostgresListeners: ListenerRepository {
    let executor: PostgresExecutor

    func setStarred(_ starred: Bool, item: LibraryItem, userId: UUID, at time: Date) async throws {
        let column = item.kind.column
        try await executor.write { connection in
            if starred {
                try await requireItem(item, userId: userId, connection)
                try await connection.run(
                    """
                    INSERT INTO star (user_id, \(unescaped: column), starred_at) VALUES (\(userId), \(item.id), \(time.stored))
                    ON CONFLICT DO NOTHING
                    """)
            } else {
                try await connection.run("DELETE FROM star WHERE user_id = \(userId) AND \(unescaped: column) = \(item.id)")
            }
        }
    }

    func stars(userId: UUID, kind: LibraryItemKind, page: PageRequest) async throws -> Page<Star> {
        let column = kind.column
        return try await executor.read { connection in
            let rows = try await connection.rows(
                """
                SELECT \(unescaped: column) AS item_id, starred_at FROM star WHERE user_id = \(userId) AND \(unescaped: column) IS NOT NULL
                ORDER BY starred_at DESC, id DESC LIMIT \(page.limit + 1) OFFSET \(page.offset)
                """)
            return Page(
                fetched: try rows.map { Star(item: LibraryItem(kind, try $0.value("item_id")), starredAt: try $0.date("starred_at")) },
                request: page)
        }
    }

    func starDates(userId: UUID, ids: [UUID]) async throws -> [UUID: Date] {
        try await marks("star", value: "starred_at", as: Double.self, userId: userId, ids: ids).mapValues { Date(timeIntervalSince1970: $0) }
    }

    /// `value` of the user's rows of `table` (stars or ratings) for any of `ids`, whatever their kind.
    private func marks<Value: PostgresDecodable & Sendable>(
        _ table: String, value: String, as type: Value.Type, userId: UUID, ids: [UUID]
    ) async throws -> [UUID: Value] {
        guard !ids.isEmpty else { return [:] }
        return try await executor.read { connection in
            let rows = try await connection.rows(
                """
                SELECT coalesce(artist_id, album_id, track_id) AS item_id, \(unescaped: value) AS mark FROM \(unescaped: table)
                WHERE user_id = \(userId) AND coalesce(artist_id, album_id, track_id) = ANY(\(ids))
                """)
            let pairs = try rows.map { row in (try row.value("item_id", as: UUID.self), try row.value("mark", as: Value.self)) }
            return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
        }
    }

    func setRating(_ rating: Int, item: LibraryItem, userId: UUID) async throws {
        let column = item.kind.column
        try await executor.write { connection in
            guard rating > 0 else {
                try await connection.run("DELETE FROM rating WHERE user_id = \(userId) AND \(unescaped: column) = \(item.id)")
                return
            }
            try await requireItem(item, userId: userId, connection)
            try await connection.run(
                """
                INSERT INTO rating (user_id, \(unescaped: column), rating) VALUES (\(userId), \(item.id), \(rating))
                ON CONFLICT (user_id, \(unescaped: column)) DO UPDATE SET rating = excluded.rating
                """)
        }
    }

    func ratings(userId: UUID, ids: [UUID]) async throws -> [UUID: Int] {
        try await marks("rating", value: "rating", as: Int.self, userId: userId, ids: ids)
    }

    func savePlayQueue(_ queue: PlayQueue) async throws {
        let ids = String(decoding: try JSONEncoder().encode(queue.trackIds.map { $0.uuidString.lowercased() }), as: UTF8.self)
        try await executor.write { connection in
            let unique = Array(Set(queue.trackIds))
            let known = try await connection.row("SELECT count(*) AS known FROM track WHERE id = ANY(\(unique))")?.value("known", as: Int.self) ?? 0
            guard known == unique.count else { throw EncoreError(.referenceMissing, "A track of the queue does not exist.") }
            try await connection.run(
                """
                INSERT INTO play_queue (user_id, track_ids, current_track_id, position_ms, changed_at, changed_by)
                VALUES (\(queue.userId), \(ids), \(queue.currentTrackId), \(queue.positionMs), \(queue.changedAt.stored), \(queue.changedBy))
                ON CONFLICT (user_id) DO UPDATE SET track_ids = excluded.track_ids, current_track_id = excluded.current_track_id,
                    position_ms = excluded.position_ms, changed_at = excluded.changed_at, changed_by = excluded.changed_by
                """)
        }
    }

    func playQueue(userId: UUID) async throws -> PlayQueue? {
        try await executor.read { connection in
            guard
                let row = try await connection.row(
                    "SELECT track_ids, current_track_id, position_ms, changed_at, changed_by FROM play_queue WHERE user_id = \(userId)")
            else { return nil }
            let stored = (try row.json("track_ids", as: [String].self) ?? []).compactMap(UUID.init(uuidString:))
            let existing = Set(try await connection.rows("SELECT id FROM track WHERE id = ANY(\(stored))").map { try $0.value("id", as: UUID.self) })
            let trackIds = stored.filter(existing.contains)
            let current = try row.value("current_track_id", as: UUID?.self)
            return PlayQueue(
                userId: userId, trackIds: trackIds, currentTrackId: current.flatMap { existing.contains($0) ? $0 : nil },
                positionMs: try row.value("position_ms"), changedAt: try row.date("changed_at"), changedBy: try row.value("changed_by"))
        }
    }

    private func requireItem(_ item: LibraryItem, userId: UUID, _ connection: PostgresConnection) async throws {
        // Checked here rather than left to the foreign key so that a missing item is a clear conflict, not a
        // constraint error after the fact.
        // The kinds are named as their tables are.
        let row = try await connection.row(
            """
            SELECT EXISTS (SELECT 1 FROM \(unescaped: item.kind.rawValue) WHERE id = \(item.id)) AS item_exists,
                EXISTS (SELECT 1 FROM app_user WHERE id = \(userId)) AS user_exists
            """)
        guard let row, try row.value("item_exists", as: Bool.self), try row.value("user_exists", as: Bool.self) else {
            throw EncoreError(.referenceMissing, "A referenced item no longer exists.")
        }
    }
}

/// The browsing views over the playable catalog on PostgreSQL: album, artist, track and genre listings.
struct PostgresBrowse: BrowseRepository {
    let executor: PostgresExecutor

    /// Alphabetical order of albums (see the top of the file).
    private static let albumTitleOrder = #"album.sort_title COLLATE "C", album.title COLLATE "C", album.id"#

    /// The summary columns of album rows, grouped per album (`GROUP BY album.id, artist.id`) by the caller.
    private static let albumSummaryColumns = """
        \(PostgresRecords.albumColumns), artist.name AS artist_name, count(track.id) AS song_count,
            sum(track.duration_ms)::bigint AS total_ms,
            (SELECT count(*) FROM play JOIN track AS played ON played.id = play.track_id
             WHERE play.counts AND played.album_id = album.id) AS play_count
        """

    /// Album rows with their artist and their playable tracks, for ``albumSummaryColumns``.
    private static let albumSummaryFrom = """
        FROM album JOIN artist ON artist.id = album.artist_id
        JOIN track ON track.album_id = album.id AND track.status = 'ready'
        """

    func albums(_ listing: AlbumListing, page: PageRequest) async throws -> Page<AlbumSummary> {
        // Most listings order by the album's own columns (or a star or rating): the page's albums are chosen
        // first and only they are summed up, so a page costs its own albums, not the whole catalog's. Those
        // ordered by plays need the sums to choose.
        // The listing's values are bound once, unconditionally, as the columns of `arg`, so that the join,
        // filter and order chosen here stay constant SQL (a `PostgresQuery` cannot be assembled from pieces).
        var join = ""
        var filter = "TRUE"
        let order: String
        var userId: UUID?
        var artistId: UUID?
        var genre: String?
        var fromYear: Int?
        var toYear: Int?
        switch listing {
        case .frequent, .recent:
            return try await albumsOrderedByPlays(listing, page: page)
        case .newest: order = "album.created_at DESC, album.id"
        case .alphabeticalByName: order = Self.albumTitleOrder
        case .alphabeticalByArtist:
            order =
                #"artist.sort_name COLLATE "C", artist.name COLLATE "C", album.release_date COLLATE "C" NULLS FIRST, "#
                + Self.albumTitleOrder
        case .random: order = "random()"
        case .starred(let user):
            join = "JOIN star ON star.album_id = album.id AND star.user_id = arg.user_id"
            userId = user
            order = "star.starred_at DESC, album.id"
        case .highest(let user):
            join = "JOIN rating ON rating.album_id = album.id AND rating.user_id = arg.user_id"
            userId = user
            order = "rating.rating DESC, " + Self.albumTitleOrder
        case .byYear(let from, let to):
            filter = "\(Self.albumYear) BETWEEN arg.from_year AND arg.to_year"
            fromYear = min(from, to)
            toYear = max(from, to)
            order = from <= to ? #"album.release_date COLLATE "C", album.id"# : #"album.release_date COLLATE "C" DESC, album.id"#
        case .byGenre(let name):
            filter = "lower(album.genre) = lower(arg.genre)"
            genre = name
            order = Self.albumTitleOrder
        case .byArtist(let id):
            filter = "album.artist_id = arg.artist_id"
            artistId = id
            order = #"album.release_date IS NULL, album.release_date COLLATE "C", album.created_at, album.id"#
        }
        let query: PostgresQuery = """
            WITH arg AS (
                SELECT \(userId)::uuid AS user_id, \(artistId)::uuid AS artist_id, \(genre)::text AS genre,
                    \(fromYear)::bigint AS from_year, \(toYear)::bigint AS to_year),
            page AS (
                SELECT album.id AS page_id, row_number() OVER (ORDER BY \(unescaped: order)) AS rank
                FROM arg CROSS JOIN album JOIN artist ON artist.id = album.artist_id \(unescaped: join)
                WHERE EXISTS (SELECT 1 FROM track WHERE track.album_id = album.id AND track.status = 'ready') AND \(unescaped: filter)
                ORDER BY rank LIMIT \(page.limit + 1) OFFSET \(page.offset))
            SELECT \(unescaped: Self.albumSummaryColumns)
            \(unescaped: Self.albumSummaryFrom)
            JOIN page ON page.page_id = album.id
            GROUP BY album.id, artist.id, page.rank ORDER BY page.rank
            """
        return try await executor.read { connection in
            Page(fetched: try await connection.rows(query).map { try Self.albumSummary($0) }, request: page)
        }
    }

    /// `frequent` and `recent`: ordered by what the plays add up to.
    private func albumsOrderedByPlays(_ listing: AlbumListing, page: PageRequest) async throws -> Page<AlbumSummary> {
        // Albums without plays (of anyone's, or the user's) are left out before grouping, rather than by a
        // HAVING on the sums: the same albums, as the sums are over the same plays.
        let query: PostgresQuery
        switch listing {
        case .recent(let userId):
            query = """
                SELECT \(unescaped: Self.albumSummaryColumns),
                    (SELECT max(play.played_at) FROM play JOIN track AS mine ON mine.id = play.track_id
                     WHERE play.user_id = \(userId) AND mine.album_id = album.id) AS last_played
                \(unescaped: Self.albumSummaryFrom)
                WHERE EXISTS (
                    SELECT 1 FROM play JOIN track AS mine ON mine.id = play.track_id WHERE play.user_id = \(userId) AND mine.album_id = album.id)
                GROUP BY album.id, artist.id ORDER BY last_played DESC, album.id LIMIT \(page.limit + 1) OFFSET \(page.offset)
                """
        default:
            query = """
                SELECT \(unescaped: Self.albumSummaryColumns)
                \(unescaped: Self.albumSummaryFrom)
                WHERE EXISTS (
                    SELECT 1 FROM play JOIN track AS played ON played.id = play.track_id WHERE play.counts AND played.album_id = album.id)
                GROUP BY album.id, artist.id ORDER BY play_count DESC, \(unescaped: Self.albumTitleOrder)
                LIMIT \(page.limit + 1) OFFSET \(page.offset)
                """
        }
        return try await executor.read { connection in
            Page(fetched: try await connection.rows(query).map { try Self.albumSummary($0) }, request: page)
        }
    }

    func albumSummaries(ids: [UUID]) async throws -> [UUID: AlbumSummary] {
        guard !ids.isEmpty else { return [:] }
        return try await executor.read { connection in
            let rows = try await connection.rows(
                """
                SELECT \(unescaped: Self.albumSummaryColumns) \(unescaped: Self.albumSummaryFrom)
                WHERE album.id = ANY(\(ids)) GROUP BY album.id, artist.id
                """)
            return Dictionary(uniqueKeysWithValues: try rows.map { try Self.albumSummary($0) }.map { ($0.album.id, $0) })
        }
    }

    /// Artist rows with their album counts, grouped per artist by the caller.
    private static let artistSummarySQL = """
        SELECT \(PostgresRecords.artistColumns), count(DISTINCT track.album_id) AS album_count
        FROM artist JOIN track ON track.artist_id = artist.id AND track.status = 'ready'
        """

    /// Alphabetical order of artists (see the top of the file).
    private static let artistNameOrder = #"artist.sort_name COLLATE "C", artist.name COLLATE "C", artist.id"#

    func artists(starredBy userId: UUID?, page: PageRequest) async throws -> Page<ArtistSummary> {
        let query: PostgresQuery
        if let userId {
            // A user stars an artist once: grouping by the star as well keeps one row per artist.
            query = """
                \(unescaped: Self.artistSummarySQL)
                JOIN star ON star.artist_id = artist.id AND star.user_id = \(userId)
                GROUP BY artist.id, star.id ORDER BY star.starred_at DESC, artist.id LIMIT \(page.limit + 1) OFFSET \(page.offset)
                """
        } else {
            query = """
                \(unescaped: Self.artistSummarySQL)
                GROUP BY artist.id ORDER BY \(unescaped: Self.artistNameOrder) LIMIT \(page.limit + 1) OFFSET \(page.offset)
                """
        }
        return try await executor.read { connection in
            Page(fetched: try await connection.rows(query).map { try Self.artistSummary($0) }, request: page)
        }
    }

    func allArtists() async throws -> [ArtistSummary] {
        try await executor.read { connection in
            try await connection.rows("\(unescaped: Self.artistSummarySQL) GROUP BY artist.id ORDER BY \(unescaped: Self.artistNameOrder)")
                .map { try Self.artistSummary($0) }
        }
    }

    func artistSummaries(ids: [UUID]) async throws -> [UUID: ArtistSummary] {
        guard !ids.isEmpty else { return [:] }
        return try await executor.read { connection in
            let rows = try await connection.rows("\(unescaped: Self.artistSummarySQL) WHERE artist.id = ANY(\(ids)) GROUP BY artist.id")
            return Dictionary(uniqueKeysWithValues: try rows.map { try Self.artistSummary($0) }.map { ($0.artist.id, $0) })
        }
    }

    /// The release year of `album`: the release date's leading four digits (NULL when there is no date).
    private static let albumYear = "CAST(substring(album.release_date from '^[0-9]{4}') AS bigint)"

    func tracks(_ listing: TrackListing, page: PageRequest) async throws -> Page<Track> {
        let columns = PostgresRecords.trackColumns
        let (limit, offset) = (page.limit + 1, page.offset)
        let query: PostgresQuery
        switch listing {
        case .all:
            query = "SELECT \(unescaped: columns) FROM track WHERE track.status = 'ready' ORDER BY track.id LIMIT \(limit) OFFSET \(offset)"
        case .random(let genre, let fromYear, let toYear):
            // Each filter is bound whether or not it is given; an absent one is NULL and lets every track through.
            query = """
                SELECT \(unescaped: columns) FROM track JOIN album ON album.id = track.album_id WHERE track.status = 'ready'
                AND (\(genre)::text IS NULL OR lower(album.genre) = lower(\(genre)::text))
                AND (\(fromYear)::bigint IS NULL OR \(unescaped: Self.albumYear) >= \(fromYear)::bigint)
                AND (\(toYear)::bigint IS NULL OR \(unescaped: Self.albumYear) <= \(toYear)::bigint)
                ORDER BY random() LIMIT \(limit) OFFSET \(offset)
                """
        case .byGenre(let genre):
            query = """
                SELECT \(unescaped: columns) FROM track
                JOIN album ON album.id = track.album_id WHERE track.status = 'ready' AND lower(album.genre) = lower(\(genre))
                ORDER BY \(unescaped: Self.albumTitleOrder), track.track_number LIMIT \(limit) OFFSET \(offset)
                """
        case .starred(let userId):
            query = """
                SELECT \(unescaped: columns) FROM track JOIN star ON star.track_id = track.id AND star.user_id = \(userId)
                WHERE track.status = 'ready' ORDER BY star.starred_at DESC, track.id LIMIT \(limit) OFFSET \(offset)
                """
        case .mostPlayed:
            query = """
                SELECT \(unescaped: columns) FROM track
                JOIN (SELECT track_id, count(*) AS plays FROM play WHERE counts GROUP BY track_id) AS counted ON counted.track_id = track.id
                WHERE track.status = 'ready' ORDER BY counted.plays DESC, track.id LIMIT \(limit) OFFSET \(offset)
                """
        }
        return try await executor.read { connection in
            Page(fetched: try await connection.rows(query).map { try PostgresRecords.track($0) }, request: page)
        }
    }

    func genres() async throws -> [GenreSummary] {
        // Merged across case, as SQLite's NOCASE merges them; named by the smallest spelling, byte by byte.
        try await executor.read { connection in
            try await connection.rows(
                """
                SELECT min(album.genre COLLATE "C") AS name, count(DISTINCT album.id) AS album_count, count(track.id) AS song_count
                FROM album JOIN track ON track.album_id = album.id AND track.status = 'ready'
                WHERE album.genre IS NOT NULL AND album.genre <> ''
                GROUP BY lower(album.genre) ORDER BY lower(album.genre) COLLATE "C"
                """
            ).map { GenreSummary(name: try $0.value("name"), albumCount: try $0.value("album_count"), songCount: try $0.value("song_count")) }
        }
    }

    func playCounts(trackIds: [UUID]) async throws -> [UUID: Int] {
        guard !trackIds.isEmpty else { return [:] }
        return try await executor.read { connection in
            var counts = Dictionary(uniqueKeysWithValues: trackIds.map { ($0, 0) })
            let rows = try await connection.rows(
                "SELECT track_id, count(*) AS plays FROM play WHERE counts AND track_id = ANY(\(trackIds)) GROUP BY track_id")
            for row in rows {
                let trackId: UUID = try row.value("track_id")
                counts[trackId] = try row.value("plays", as: Int.self)
            }
            return counts
        }
    }

    private static func albumSummary(_ row: PostgresRandomAccessRow) throws -> AlbumSummary {
        AlbumSummary(
            album: try PostgresRecords.album(row), artistName: try row.value("artist_name"), songCount: try row.value("song_count"),
            durationMs: try row.value("total_ms", as: Int?.self) ?? 0, playCount: try row.value("play_count"))
    }

    private static func artistSummary(_ row: PostgresRandomAccessRow) throws -> ArtistSummary {
        ArtistSummary(artist: try PostgresRecords.artist(row), albumCount: try row.value("album_count"))
    }
}

extension LibraryItemKind {
    /// The star and rating tables' column for this kind.
    fileprivate var column: String {
        switch self {
        case .artist: "artist_id"
        case .album: "album_id"
        case .track: "track_id"
        }
    }
}
