import EncoreCore
import Foundation
import PostgresNIO

/// The search documents inside the catalog database, one per artist, album and track, with their
/// normalised terms and popularity; every function runs inside the caller's transaction, on its
/// connection. Each process's ``MemorySearchIndex`` is built from them and follows their revisions (set
/// by the schema's triggers).
///
/// Unlike SQLite's, every statement here is a round trip to the server, so the work is batched: a tree of
/// documents (an artist and everything that carries its name) takes the same few statements as one.
enum PostgresSearchIndexer {
    /// Catalog rows read per page when rebuilding.
    static let rebuildPageSize = 5_000

    /// A document to index, as the catalog has it.
    struct Input: Sendable {
        var kind: SearchRequest.Kind
        var entityId: UUID
        var name: String
        var secondary: [String]
        var createdAt: Date
        /// Decayed popularity as of `Date()`; nil keeps what the index has.
        var popularity: Double?
    }

    /// A document known not to be indexed yet, its names analysed.
    struct FreshDocument: Sendable {
        var kind: SearchRequest.Kind
        var entityId: UUID
        var main: IndexedName
        var secondary: [IndexedName]
        var popularity: Double
        var createdAt: Date

        init(kind: SearchRequest.Kind, entityId: UUID, main: IndexedName, secondary: [IndexedName], popularity: Double, createdAt: Date) {
            self.kind = kind
            self.entityId = entityId
            self.main = main
            self.secondary = secondary
            self.popularity = popularity
            self.createdAt = createdAt
        }

        init(_ input: Input, popularity: Double) {
            self.init(
                kind: input.kind, entityId: input.entityId, main: IndexedName(input.name), secondary: input.secondary.map(IndexedName.init),
                popularity: popularity, createdAt: input.createdAt)
        }
    }

    // MARK: Writing documents

    /// Adds or replaces the documents of `inputs`, in a fixed number of statements whatever their number.
    static func upsert(_ inputs: [Input], _ connection: PostgresConnection) async throws {
        guard !inputs.isEmpty else { return }
        let removed = try await deleteDocuments(inputs.map(\.entityId), connection)
        var previous: [UUID: RemovedDocument] = [:]
        for document in removed { previous[document.entityId] = document }
        let now = Date().timeIntervalSince1970
        let documents = inputs.map { input in
            var popularity = input.popularity ?? 0
            if input.popularity == nil, let old = previous[input.entityId] {
                popularity = SearchIndexRules.decayed(old.popularity, from: old.popularityAt, to: now)
            }
            return FreshDocument(input, popularity: popularity)
        }
        try await insertDocuments(documents, connection)
    }

    /// A document's popularity when it was deleted.
    struct RemovedDocument: Sendable {
        var entityId: UUID
        var popularity: Double
        var popularityAt: Double
    }

    /// Deletes the documents of these entities.
    @discardableResult
    static func deleteDocuments(_ entityIds: [UUID], _ connection: PostgresConnection) async throws -> [RemovedDocument] {
        guard !entityIds.isEmpty else { return [] }
        let rows = try await connection.rows(
            "DELETE FROM search_doc WHERE entity_id = ANY(\(entityIds)) RETURNING entity_id, popularity, popularity_at")
        return try rows.map { row in
            RemovedDocument(
                entityId: try row.value("entity_id"), popularity: try row.value("popularity"), popularityAt: try row.value("popularity_at"))
        }
    }

    /// Removes the documents of these entities.
    static func remove(_ entityIds: [UUID], _ connection: PostgresConnection) async throws {
        try await deleteDocuments(entityIds, connection)
    }

    /// Adds one play to these documents' popularity (decaying what was there first). Postings keep
    /// the rank they were indexed with until the next reindex; ranking uses the current value.
    static func recordPlay(_ entityIds: [UUID], at time: Date, _ connection: PostgresConnection) async throws {
        guard !entityIds.isEmpty else { return }
        let now = time.timeIntervalSince1970
        // `decayed(popularity, from: popularityAt, to: now) + 1`, worked out by the server in the same
        // statement, so that concurrent plays of the same album or artist add up instead of overwriting
        // each other.
        try await connection.run(
            """
            UPDATE search_doc SET popularity = popularity * exp(-greatest(\(now) - popularity_at, 0) / \(SearchIndexRules.decaySeconds)) + 1,
                popularity_at = \(now)
            WHERE entity_id = ANY(\(entityIds))
            """)
    }

    /// Inserts documents known not to be indexed yet, in one statement.
    static func insertDocuments(_ documents: [FreshDocument], _ connection: PostgresConnection) async throws {
        guard !documents.isEmpty else { return }
        let kinds = documents.map { SearchIndexRules.code($0.kind) }
        let entityIds = documents.map(\.entityId)
        let names = documents.map(\.main.words)
        let primary = documents.map { $0.main.terms.joined(separator: " ") }
        let secondary = documents.map { $0.secondary.flatMap(\.terms).joined(separator: " ") }
        let popularity = documents.map(\.popularity)
        let popularityAt = [Double](repeating: Date().timeIntervalSince1970, count: documents.count)
        let ranks = documents.map { SearchIndexRules.postingRank($0.popularity) }
        let createdAt = documents.map(\.createdAt.stored)
        // Rows go in in the order given, so doc ids (which break ties between postings of equal rank)
        // follow the documents' order, as they do when SQLite inserts them one by one.
        try await connection.run(
            """
            INSERT INTO search_doc (kind, entity_id, name, primary_terms, secondary_terms, popularity, popularity_at, posting_rank, created_at)
            SELECT * FROM unnest(\(kinds)::smallint[], \(entityIds)::uuid[], \(names)::text[], \(primary)::text[], \(secondary)::text[],
                                 \(popularity)::float8[], \(popularityAt)::float8[], \(ranks)::bigint[], \(createdAt)::float8[])
            """)
    }

    /// Inserts documents known not to be indexed yet with COPY (rebuild, bulk import).
    static func copyDocuments(_ documents: [FreshDocument], _ connection: PostgresConnection) async throws {
        guard !documents.isEmpty else { return }
        // COPY cannot return the ids it assigns: take them from the column's sequence first. Ascending, in
        // the documents' order, as inserting them one by one would (ids break ties between equal ranks).
        let docIds = try await connection.rows(
            "SELECT nextval(pg_get_serial_sequence('search_doc', 'doc_id')) AS id FROM generate_series(1, \(documents.count))"
        ).map { try $0.value("id", as: Int64.self) }.sorted()
        guard docIds.count == documents.count else { throw EncoreError(.internalError, "The database returned too few document ids.") }
        let now = Date().timeIntervalSince1970
        var rows = CopyRows()
        for (index, document) in documents.enumerated() {
            rows.add(docIds[index])
            rows.add(SearchIndexRules.code(document.kind))
            rows.add(document.entityId)
            rows.add(document.main.words)
            rows.add(document.main.terms.joined(separator: " "))
            rows.add(document.secondary.flatMap(\.terms).joined(separator: " "))
            rows.add(document.popularity)
            rows.add(now)
            rows.add(SearchIndexRules.postingRank(document.popularity))
            rows.add(document.createdAt.stored)
            rows.endRow()
        }
        try await connection.copyRows(
            into: "search_doc",
            columns: [
                "doc_id", "kind", "entity_id", "name", "primary_terms", "secondary_terms", "popularity", "popularity_at", "posting_rank",
                "created_at",
            ], rows)
    }

    // MARK: Documents from catalog rows

    /// Which catalog rows to read documents from: one entity, or everything of an artist or of an album.
    enum Scope: Sendable {
        case entity(UUID)
        case artist(UUID)
        case album(UUID)
    }

    static func artistInputs(_ id: UUID, _ connection: PostgresConnection) async throws -> [Input] {
        try await connection.rows("SELECT id, name, created_at FROM artist WHERE id = \(id)").map(artistInput)
    }

    static func artistInput(_ row: PostgresRandomAccessRow) throws -> Input {
        Input(
            kind: .artist, entityId: try row.value("id"), name: try row.value("name"), secondary: [], createdAt: try row.date("created_at"),
            popularity: nil)
    }

    static let albumSelect = "SELECT a.id, a.title, a.created_at, r.name AS artist_name FROM album a JOIN artist r ON r.id = a.artist_id"

    static func albumInputs(_ scope: Scope, _ connection: PostgresConnection) async throws -> [Input] {
        let query: PostgresQuery =
            switch scope {
            case .entity(let id), .album(let id): "\(unescaped: albumSelect) WHERE a.id = \(id)"
            case .artist(let id): "\(unescaped: albumSelect) WHERE a.artist_id = \(id) ORDER BY a.id"
            }
        return try await connection.rows(query).map(albumInput)
    }

    static func albumInput(_ row: PostgresRandomAccessRow) throws -> Input {
        Input(
            kind: .album, entityId: try row.value("id"), name: try row.value("title"), secondary: [try row.value("artist_name")],
            createdAt: try row.date("created_at"), popularity: nil)
    }

    static let trackSelect = """
        SELECT t.id, t.title, t.created_at, a.title AS album_title, r.name AS artist_name
        FROM track t JOIN album a ON a.id = t.album_id JOIN artist r ON r.id = t.artist_id
        """

    static func trackInputs(_ scope: Scope, _ connection: PostgresConnection) async throws -> [Input] {
        let query: PostgresQuery =
            switch scope {
            case .entity(let id): "\(unescaped: trackSelect) WHERE t.id = \(id)"
            case .artist(let id): "\(unescaped: trackSelect) WHERE t.artist_id = \(id) ORDER BY t.id"
            case .album(let id): "\(unescaped: trackSelect) WHERE t.album_id = \(id) ORDER BY t.id"
            }
        return try await connection.rows(query).map(trackInput)
    }

    static func trackInput(_ row: PostgresRandomAccessRow) throws -> Input {
        Input(
            kind: .track, entityId: try row.value("id"), name: try row.value("title"),
            secondary: [try row.value("artist_name"), try row.value("album_title")], createdAt: try row.date("created_at"), popularity: nil)
    }

    static func indexArtist(_ id: UUID, _ connection: PostgresConnection) async throws {
        try await upsert(try await artistInputs(id, connection), connection)
    }

    static func indexAlbum(_ id: UUID, _ connection: PostgresConnection) async throws {
        try await upsert(try await albumInputs(.entity(id), connection), connection)
    }

    static func indexTrack(_ id: UUID, _ connection: PostgresConnection) async throws {
        try await upsert(try await trackInputs(.entity(id), connection), connection)
    }

    /// Re-indexes an artist and everything that carries its name (its albums and its tracks), together.
    static func indexArtistTree(_ id: UUID, _ connection: PostgresConnection) async throws {
        let artist = try await artistInputs(id, connection)
        let albums = try await albumInputs(.artist(id), connection)
        let tracks = try await trackInputs(.artist(id), connection)
        try await upsert(artist + albums + tracks, connection)
    }

    /// Re-indexes an album and its tracks (which carry its title), together.
    static func indexAlbumTree(_ id: UUID, _ connection: PostgresConnection) async throws {
        let album = try await albumInputs(.entity(id), connection)
        let tracks = try await trackInputs(.album(id), connection)
        try await upsert(album + tracks, connection)
    }

    /// Catalog rows of one kind, by id, after `after`: the pages of a rebuild.
    static func inputs(_ kind: SearchRequest.Kind, after: UUID?, _ connection: PostgresConnection) async throws -> [Input] {
        let limit = rebuildPageSize
        switch kind {
        case .artist:
            let select = "SELECT id, name, created_at FROM artist"
            let query: PostgresQuery =
                if let after { "\(unescaped: select) WHERE id > \(after) ORDER BY id LIMIT \(limit)" } else {
                    "\(unescaped: select) ORDER BY id LIMIT \(limit)"
                }
            return try await connection.rows(query).map(artistInput)
        case .album:
            let query: PostgresQuery =
                if let after { "\(unescaped: albumSelect) WHERE a.id > \(after) ORDER BY a.id LIMIT \(limit)" } else {
                    "\(unescaped: albumSelect) ORDER BY a.id LIMIT \(limit)"
                }
            return try await connection.rows(query).map(albumInput)
        case .track:
            let query: PostgresQuery =
                if let after { "\(unescaped: trackSelect) WHERE t.id > \(after) ORDER BY t.id LIMIT \(limit)" } else {
                    "\(unescaped: trackSelect) ORDER BY t.id LIMIT \(limit)"
                }
            return try await connection.rows(query).map(trackInput)
        }
    }

    /// Drops and rebuilds every document, keeping the popularity each had.
    @discardableResult
    static func rebuild(_ connection: PostgresConnection) async throws -> Int {
        var popularity: [UUID: Double] = [:]
        let now = Date().timeIntervalSince1970
        // Streamed: the whole index need not be in memory as rows.
        let indexed: PostgresQuery = "SELECT entity_id, popularity, popularity_at FROM search_doc"
        for try await streamed in try await connection.query(indexed, logger: queryLogger) {
            let row = streamed.makeRandomAccess()
            let id = try row.value("entity_id", as: UUID.self)
            popularity[id] = SearchIndexRules.decayed(try row.value("popularity"), from: try row.value("popularity_at"), to: now)
        }
        // Deleted rather than truncated: other processes go on reading the old documents until the new ones commit.
        try await connection.run("DELETE FROM search_doc")
        var count = 0
        // Artists, then albums, then tracks, each in id order (as SQLite reads them), a page at a time.
        for kind in [SearchRequest.Kind.artist, .album, .track] {
            var after: UUID?
            while true {
                let page = try await inputs(kind, after: after, connection)
                guard let last = page.last else { break }
                after = last.entityId
                count += page.count
                let documents = page.map { FreshDocument($0, popularity: popularity[$0.entityId] ?? 0) }
                try await copyDocuments(documents, connection)
                if page.count < rebuildPageSize { break }
            }
        }
        return count
    }
}
