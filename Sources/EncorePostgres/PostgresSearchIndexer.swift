import EncoreCore
import Foundation
import PostgresNIO

/// The search index inside the catalog database: documents (one per artist, album and track), a
/// vocabulary of normalised terms, postings ordered by popularity, and the deletion variants of every
/// term (SymSpell) for typo-tolerant lookups. Every function runs inside the caller's transaction, on its
/// connection.
///
/// Unlike SQLite's, every statement here is a round trip to the server, so the work is batched: the terms
/// of any number of documents are looked up, created and counted with one statement each, and a tree of
/// documents (an artist and everything that carries its name) takes the same few statements as one
/// document. Concurrent transactions create terms in sorted order and change document counts in ascending
/// term id order, so that they wait for each other rather than deadlock.
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

        /// Its index terms, each once: the main field's, then the others'.
        var terms: [String] {
            var seen = Set<String>()
            var terms: [String] = []
            for term in main.terms + secondary.flatMap(\.terms) where !seen.contains(term) {
                seen.insert(term)
                terms.append(term)
            }
            return terms
        }
    }

    /// Resolves terms to ids, creating them (with their variants) as needed; counts documents per term.
    /// One value may live across many documents (bulk import) to avoid repeated look-ups. A value passed
    /// `inout`, used by one task at a time, so it needs no locking.
    struct Terms: Sendable {
        var ids: [String: Int64] = [:]
        var countChanges: [Int64: Int] = [:]

        /// Looks up, in one query, the terms whose ids are not known yet. Returns those the index does
        /// not have, each once.
        mutating func lookUp(_ terms: [String], _ connection: PostgresConnection) async throws -> [String] {
            var wanted = Set<String>()
            var missing: [String] = []
            for term in terms where ids[term] == nil && !wanted.contains(term) {
                wanted.insert(term)
                missing.append(term)
            }
            guard !missing.isEmpty else { return [] }
            for row in try await connection.rows("SELECT term_id, term FROM search_term WHERE term = ANY(\(missing))") {
                let term = try row.value("term", as: String.self)
                ids[term] = try row.value("term_id", as: Int64.self)
            }
            return missing.filter { ids[$0] == nil }
        }

        /// Creates terms the index did not have a moment ago (see ``lookUp(_:_:)``), with their deletion
        /// variants; the variants go in with COPY when `bulk` (rebuild, import).
        mutating func create(_ absent: [String], _ connection: PostgresConnection, bulk: Bool) async throws {
            guard !absent.isEmpty else { return }
            // Sorted: transactions creating the same terms at once then meet them in the same order, and one
            // waits for the other instead of each waiting for the other.
            let sorted = absent.sorted()
            var created: [(term: String, id: Int64)] = []
            let rows = try await connection.rows(
                """
                INSERT INTO search_term (term, doc_count) SELECT unnest(\(sorted)::text[]), 0
                ON CONFLICT (term) DO NOTHING RETURNING term_id, term
                """)
            for row in rows {
                let term = try row.value("term", as: String.self)
                let id = try row.value("term_id", as: Int64.self)
                ids[term] = id
                created.append((term, id))
            }
            if created.count < sorted.count {
                // Another transaction created the others meanwhile (the insert waited for it to commit).
                let lost = try await lookUp(sorted, connection)
                guard lost.isEmpty else { throw EncoreError(.storageUnavailable, "The search index is busy; try again.") }
            }
            var variants: [String] = []
            var owners: [Int64] = []
            for (term, id) in created {
                let budget = SearchIndexRules.variantBudget(forTerm: term)
                guard budget > 0 else { continue }
                for variant in SearchText.deletions(term, upTo: budget) {
                    variants.append(variant)
                    owners.append(id)
                }
            }
            guard !variants.isEmpty else { return }
            if bulk {
                // The terms are new, so none of their variants can be there: COPY needs no conflict handling.
                var copied = CopyRows()
                for (variant, id) in zip(variants, owners) {
                    copied.add(variant)
                    copied.add(id)
                    copied.endRow()
                }
                try await connection.copyRows(into: "search_variant", columns: ["variant", "term_id"], copied)
            } else {
                try await connection.run(
                    """
                    INSERT INTO search_variant (variant, term_id) SELECT * FROM unnest(\(variants)::text[], \(owners)::bigint[])
                    ON CONFLICT DO NOTHING
                    """)
            }
        }

        /// Writes the accumulated document counts, in one statement.
        mutating func flush(_ connection: PostgresConnection) async throws {
            // Ascending term ids: concurrent transactions lock the rows they share in the same order.
            let changes = countChanges.filter { $0.value != 0 }.sorted { $0.key < $1.key }
            if !changes.isEmpty {
                let termIds = changes.map { $0.key }
                let amounts = changes.map { Int64($0.value) }
                try await connection.run(
                    """
                    UPDATE search_term SET doc_count = search_term.doc_count + v.change
                    FROM unnest(\(termIds)::bigint[], \(amounts)::bigint[]) AS v(id, change)
                    WHERE search_term.term_id = v.id
                    """)
            }
            countChanges = [:]
        }
    }

    // MARK: Writing documents

    /// Adds or replaces the documents of `inputs`, in a fixed number of statements whatever their number.
    static func upsert(_ inputs: [Input], _ connection: PostgresConnection) async throws {
        guard !inputs.isEmpty else { return }
        var terms = Terms()
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
        let newTerms = documents.flatMap(\.terms)
        // One look-up for the old documents' terms and the new ones', which are mostly the same.
        let absent = try await terms.lookUp(removed.flatMap(\.terms) + newTerms, connection)
        try await deletePostings(removed, connection, terms: &terms)
        let wanted = Set(newTerms)
        try await terms.create(absent.filter { wanted.contains($0) }, connection, bulk: false)
        try await insertDocuments(documents, connection, terms: &terms)
        try await terms.flush(connection)
    }

    /// A document as it was when it was deleted.
    struct RemovedDocument: Sendable {
        var docId: Int64
        var entityId: UUID
        var kind: Int
        var postingRank: Int
        var terms: [String]
        var popularity: Double
        var popularityAt: Double
    }

    /// Deletes the documents of these entities (not their postings: see ``deletePostings(_:_:terms:)``).
    static func deleteDocuments(_ entityIds: [UUID], _ connection: PostgresConnection) async throws -> [RemovedDocument] {
        guard !entityIds.isEmpty else { return [] }
        let rows = try await connection.rows(
            """
            DELETE FROM search_doc WHERE entity_id = ANY(\(entityIds))
            RETURNING doc_id, entity_id, kind, posting_rank, primary_terms, secondary_terms, popularity, popularity_at
            """)
        return try rows.map { row in
            let text = try row.value("primary_terms", as: String.self) + " " + row.value("secondary_terms", as: String.self)
            return RemovedDocument(
                docId: try row.value("doc_id"), entityId: try row.value("entity_id"), kind: try row.value("kind"),
                postingRank: try row.value("posting_rank"), terms: Array(Set(SearchIndexRules.terms(text))),
                popularity: try row.value("popularity"), popularityAt: try row.value("popularity_at"))
        }
    }

    /// Deletes the postings of deleted documents, in one statement, and counts the documents off their terms.
    static func deletePostings(_ removed: [RemovedDocument], _ connection: PostgresConnection, terms: inout Terms) async throws {
        guard !removed.isEmpty else { return }
        // Removing a document must not add to the vocabulary: a term it had is there already.
        _ = try await terms.lookUp(removed.flatMap(\.terms), connection)
        var termIds: [Int64] = []
        var kinds: [Int] = []
        var ranks: [Int] = []
        var docIds: [Int64] = []
        for document in removed {
            for term in document.terms {
                guard let id = terms.ids[term] else { continue }
                termIds.append(id)
                kinds.append(document.kind)
                ranks.append(document.postingRank)
                docIds.append(document.docId)
                terms.countChanges[id, default: 0] -= 1
            }
        }
        guard !termIds.isEmpty else { return }
        try await connection.run(
            """
            DELETE FROM search_posting p
            USING unnest(\(termIds)::bigint[], \(kinds)::smallint[], \(ranks)::bigint[], \(docIds)::bigint[]) AS v(term_id, kind, rank, doc_id)
            WHERE p.term_id = v.term_id AND p.kind = v.kind AND p.rank = v.rank AND p.doc_id = v.doc_id
            """)
    }

    /// Removes the documents of these entities (and their postings).
    static func remove(_ entityIds: [UUID], _ connection: PostgresConnection) async throws {
        guard !entityIds.isEmpty else { return }
        var terms = Terms()
        let removed = try await deleteDocuments(entityIds, connection)
        try await deletePostings(removed, connection, terms: &terms)
        try await terms.flush(connection)
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

    /// Inserts documents known not to be indexed yet, their terms looked up or created here; counts are
    /// flushed by the caller. One statement for the documents and one for their postings.
    static func insertDocuments(_ documents: [FreshDocument], _ connection: PostgresConnection, terms: inout Terms) async throws {
        guard !documents.isEmpty else { return }
        let documentTerms = documents.map(\.terms)
        let absent = try await terms.lookUp(documentTerms.flatMap { $0 }, connection)
        try await terms.create(absent, connection, bulk: false)
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
        let inserted = try await connection.rows(
            """
            INSERT INTO search_doc (kind, entity_id, name, primary_terms, secondary_terms, popularity, popularity_at, posting_rank, created_at)
            SELECT * FROM unnest(\(kinds)::smallint[], \(entityIds)::uuid[], \(names)::text[], \(primary)::text[], \(secondary)::text[],
                                 \(popularity)::float8[], \(popularityAt)::float8[], \(ranks)::bigint[], \(createdAt)::float8[])
            RETURNING doc_id, entity_id
            """)
        var docIds: [UUID: Int64] = [:]
        for row in inserted {
            let entityId = try row.value("entity_id", as: UUID.self)
            docIds[entityId] = try row.value("doc_id", as: Int64.self)
        }
        var postings: [(termId: Int64, kind: Int, rank: Int, docId: Int64)] = []
        for (index, document) in documents.enumerated() {
            guard let docId = docIds[document.entityId] else { throw EncoreError(.internalError, "A search document was not inserted.") }
            for term in documentTerms[index] {
                guard let id = terms.ids[term] else { throw EncoreError(.internalError, "A search term was not created.") }
                terms.countChanges[id, default: 0] += 1
                postings.append((id, kinds[index], ranks[index], docId))
            }
        }
        guard !postings.isEmpty else { return }
        // In key order, which keeps B-tree inserts local.
        postings.sort { ($0.termId, $0.kind, $0.rank, $0.docId) < ($1.termId, $1.kind, $1.rank, $1.docId) }
        let postingTerms = postings.map { $0.termId }
        let postingKinds = postings.map { $0.kind }
        let postingRanks = postings.map { $0.rank }
        let postingDocs = postings.map { $0.docId }
        try await connection.run(
            """
            INSERT INTO search_posting (term_id, kind, rank, doc_id)
            SELECT * FROM unnest(\(postingTerms)::bigint[], \(postingKinds)::smallint[], \(postingRanks)::bigint[], \(postingDocs)::bigint[])
            ON CONFLICT DO NOTHING
            """)
    }

    /// Inserts documents known not to be indexed yet with COPY (rebuild, bulk import): new terms in one
    /// statement, their variants, the documents and their postings in one COPY each. Counts are flushed by
    /// the caller.
    static func copyDocuments(_ documents: [FreshDocument], _ connection: PostgresConnection, terms: inout Terms) async throws {
        guard !documents.isEmpty else { return }
        let documentTerms = documents.map(\.terms)
        let absent = try await terms.lookUp(documentTerms.flatMap { $0 }, connection)
        try await terms.create(absent, connection, bulk: true)
        // COPY cannot return the ids it assigns: take them from the column's sequence first. Ascending, in
        // the documents' order, as inserting them one by one would (ids break ties between equal ranks).
        let docIds = try await connection.rows(
            "SELECT nextval(pg_get_serial_sequence('search_doc', 'doc_id')) AS id FROM generate_series(1, \(documents.count))"
        ).map { try $0.value("id", as: Int64.self) }.sorted()
        guard docIds.count == documents.count else { throw EncoreError(.internalError, "The database returned too few document ids.") }
        let now = Date().timeIntervalSince1970
        var rows = CopyRows()
        var postings: [(termId: Int64, kind: Int, rank: Int, docId: Int64)] = []
        for (index, document) in documents.enumerated() {
            let kind = SearchIndexRules.code(document.kind)
            let rank = SearchIndexRules.postingRank(document.popularity)
            rows.add(docIds[index])
            rows.add(kind)
            rows.add(document.entityId)
            rows.add(document.main.words)
            rows.add(document.main.terms.joined(separator: " "))
            rows.add(document.secondary.flatMap(\.terms).joined(separator: " "))
            rows.add(document.popularity)
            rows.add(now)
            rows.add(rank)
            rows.add(document.createdAt.stored)
            rows.endRow()
            for term in documentTerms[index] {
                guard let id = terms.ids[term] else { throw EncoreError(.internalError, "A search term was not created.") }
                terms.countChanges[id, default: 0] += 1
                postings.append((id, kind, rank, docIds[index]))
            }
        }
        try await connection.copyRows(
            into: "search_doc",
            columns: [
                "doc_id", "kind", "entity_id", "name", "primary_terms", "secondary_terms", "popularity", "popularity_at", "posting_rank",
                "created_at",
            ], rows)
        // In key order, which keeps B-tree inserts local.
        postings.sort { ($0.termId, $0.kind, $0.rank, $0.docId) < ($1.termId, $1.kind, $1.rank, $1.docId) }
        var postingRows = CopyRows()
        for posting in postings {
            postingRows.add(posting.termId)
            postingRows.add(posting.kind)
            postingRows.add(posting.rank)
            postingRows.add(posting.docId)
            postingRows.endRow()
        }
        try await connection.copyRows(into: "search_posting", columns: ["term_id", "kind", "rank", "doc_id"], postingRows)
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
        // Deleted rather than truncated: searches go on reading the old index until the new one commits.
        for table in ["search_posting", "search_variant", "search_term", "search_doc"] {
            try await connection.run("DELETE FROM \(unescaped: table)")
        }
        var terms = Terms()
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
                try await copyDocuments(documents, connection, terms: &terms)
                if page.count < rebuildPageSize { break }
            }
        }
        try await terms.flush(connection)
        return count
    }
}
