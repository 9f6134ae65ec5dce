import EncoreCore
import Foundation
import GRDB

/// The search index inside the catalog database: documents (one per artist, album and track), a
/// vocabulary of normalised terms, postings ordered by popularity, and the deletion variants of every
/// term (SymSpell) for typo-tolerant lookups. Every function runs inside the caller's transaction.
enum SearchIndexer {
    /// A document to index.
    struct Input {
        var kind: SearchRequest.Kind
        var entityId: UUID
        var name: String
        var secondary: [String]
        var createdAt: Date
        /// Decayed popularity as of `Date()`; nil keeps what the index has.
        var popularity: Double?
    }

    /// Resolves terms to ids, creating them (with their variants) as needed; counts documents per term.
    /// One instance may live across many documents (bulk import) to avoid repeated look-ups.
    final class Terms {
        var ids: [String: Int64] = [:]
        var countChanges: [Int64: Int] = [:]

        /// The id of a term the index already has, or nil.
        func existingId(_ term: String, _ db: Database) throws -> Int64? {
            if let id = ids[term] { return id }
            guard let existing = try Int64.fetchOne(db.cachedStatement(sql: "SELECT termId FROM searchTerm WHERE term = ?"), arguments: [term])
            else { return nil }
            ids[term] = existing
            return existing
        }

        /// The id of a term, created (with its deletion variants) when the index does not have it yet.
        func id(_ term: String, _ db: Database) throws -> Int64 {
            if let existing = try existingId(term, db) { return existing }
            try db.cachedStatement(sql: "INSERT INTO searchTerm (term, docCount) VALUES (?, 0)").execute(arguments: [term])
            let id = db.lastInsertedRowID
            let budget = SearchIndexRules.variantBudget(forTerm: term)
            if budget > 0 {
                let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO searchVariant (variant, termId) VALUES (?, ?)")
                for variant in SearchText.deletions(term, upTo: budget) { try insert.execute(arguments: [variant, id]) }
            }
            ids[term] = id
            return id
        }

        /// Writes the accumulated document counts.
        func flush(_ db: Database) throws {
            let update = try db.cachedStatement(sql: "UPDATE searchTerm SET docCount = docCount + ? WHERE termId = ?")
            for (id, change) in countChanges where change != 0 { try update.execute(arguments: [change, id]) }
            countChanges = [:]
        }
    }

    /// Adds or replaces the document for `input.entityId`.
    static func upsert(_ input: Input, _ db: Database, terms: Terms? = nil) throws {
        let terms = terms ?? Terms()
        let now = Date().timeIntervalSince1970
        var popularity = input.popularity ?? 0
        if input.popularity == nil,
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT popularity, popularityAt FROM searchDoc WHERE entityId = ?"), arguments: [input.entityId])
        {
            popularity = SearchIndexRules.decayed(row["popularity"], from: row["popularityAt"], to: now)
        }
        try remove([input.entityId], db, terms: terms)
        var fresh = input
        fresh.popularity = popularity
        try upsertFresh(fresh, db, terms: terms)
        try terms.flush(db)
    }

    /// Removes the documents of these entities (and their postings).
    static func remove(_ entityIds: [UUID], _ db: Database, terms: Terms? = nil) throws {
        let terms = terms ?? Terms()
        let select = try db.cachedStatement(
            sql: "SELECT docId, kind, postingRank, primaryTerms, secondaryTerms FROM searchDoc WHERE entityId = ?")
        let delete = try db.cachedStatement(sql: "DELETE FROM searchPosting WHERE termId = ? AND kind = ? AND rank = ? AND docId = ?")
        for entityId in entityIds {
            guard let row = try Row.fetchOne(select, arguments: [entityId]) else { continue }
            let docId: Int64 = row["docId"]
            let text: String = row["primaryTerms"] + " " + (row["secondaryTerms"] as String)
            // Removing a document must not add to the vocabulary: a term it had is there already.
            for term in Set(SearchIndexRules.terms(text)) {
                guard let id = try terms.existingId(term, db) else { continue }
                try delete.execute(arguments: [id, row["kind"] as Int, row["postingRank"] as Int, docId])
                terms.countChanges[id, default: 0] -= 1
            }
            try db.cachedStatement(sql: "DELETE FROM searchDoc WHERE docId = ?").execute(arguments: [docId])
        }
        try terms.flush(db)
    }

    /// Adds one play to these documents' popularity (decaying what was there first). Postings keep
    /// the rank they were indexed with until the next reindex; ranking uses the current value.
    static func recordPlay(_ entityIds: [UUID], at time: Date, _ db: Database) throws {
        let now = time.timeIntervalSince1970
        let select = try db.cachedStatement(sql: "SELECT popularity, popularityAt FROM searchDoc WHERE entityId = ?")
        let write = try db.cachedStatement(sql: "UPDATE searchDoc SET popularity = ?, popularityAt = ? WHERE entityId = ?")
        for id in entityIds {
            guard let row = try Row.fetchOne(select, arguments: [id]) else { continue }
            try write.execute(arguments: [SearchIndexRules.decayed(row["popularity"], from: row["popularityAt"], to: now) + 1, now, id])
        }
    }

    // MARK: Documents from catalog rows

    static func artistInput(_ db: Database, id: UUID, popularity: Double? = nil) throws -> Input? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT name, createdAt FROM artist WHERE id = ?"), arguments: [id]) else {
            return nil
        }
        return Input(
            kind: .artist, entityId: id, name: row["name"], secondary: [], createdAt: Date(timeIntervalSince1970: row["createdAt"]),
            popularity: popularity)
    }

    static func albumInput(_ db: Database, id: UUID, popularity: Double? = nil) throws -> Input? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT a.title, a.createdAt, r.name FROM album a JOIN artist r ON r.id = a.artistId WHERE a.id = ?"),
                arguments: [id])
        else { return nil }
        return Input(
            kind: .album, entityId: id, name: row["title"], secondary: [row["name"]], createdAt: Date(timeIntervalSince1970: row["createdAt"]),
            popularity: popularity)
    }

    static func trackInput(_ db: Database, id: UUID, popularity: Double? = nil) throws -> Input? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT t.title, t.createdAt, a.title AS albumTitle, r.name AS artistName
                        FROM track t JOIN album a ON a.id = t.albumId JOIN artist r ON r.id = t.artistId WHERE t.id = ?
                        """), arguments: [id])
        else { return nil }
        return Input(
            kind: .track, entityId: id, name: row["title"], secondary: [row["artistName"], row["albumTitle"]],
            createdAt: Date(timeIntervalSince1970: row["createdAt"]), popularity: popularity)
    }

    static func indexArtist(_ id: UUID, _ db: Database) throws {
        if let input = try artistInput(db, id: id) { try upsert(input, db) }
    }

    static func indexAlbum(_ id: UUID, _ db: Database) throws {
        if let input = try albumInput(db, id: id) { try upsert(input, db) }
    }

    static func indexTrack(_ id: UUID, _ db: Database) throws {
        if let input = try trackInput(db, id: id) { try upsert(input, db) }
    }

    /// Re-indexes an artist and everything that carries its name.
    static func indexArtistTree(_ id: UUID, _ db: Database) throws {
        try indexArtist(id, db)
        for album in try UUID.fetchAll(db, sql: "SELECT id FROM album WHERE artistId = ?", arguments: [id]) { try indexAlbum(album, db) }
        for track in try UUID.fetchAll(db, sql: "SELECT id FROM track WHERE artistId = ?", arguments: [id]) { try indexTrack(track, db) }
    }

    /// Drops and rebuilds every document, keeping the popularity each had.
    @discardableResult
    static func rebuild(_ db: Database) throws -> Int {
        var popularity: [UUID: Double] = [:]
        let now = Date().timeIntervalSince1970
        for row in try Row.fetchAll(db, sql: "SELECT entityId, popularity, popularityAt FROM searchDoc") {
            popularity[row["entityId"]] = SearchIndexRules.decayed(row["popularity"], from: row["popularityAt"], to: now)
        }
        try db.execute(sql: "DELETE FROM searchPosting; DELETE FROM searchVariant; DELETE FROM searchTerm; DELETE FROM searchDoc;")
        let terms = Terms()
        var count = 0
        for id in try UUID.fetchAll(db, sql: "SELECT id FROM artist") {
            if let input = try artistInput(db, id: id, popularity: popularity[id] ?? 0) { try upsertFresh(input, db, terms: terms) }
            count += 1
        }
        for id in try UUID.fetchAll(db, sql: "SELECT id FROM album") {
            if let input = try albumInput(db, id: id, popularity: popularity[id] ?? 0) { try upsertFresh(input, db, terms: terms) }
            count += 1
        }
        for id in try UUID.fetchAll(db, sql: "SELECT id FROM track") {
            if let input = try trackInput(db, id: id, popularity: popularity[id] ?? 0) { try upsertFresh(input, db, terms: terms) }
            count += 1
        }
        try terms.flush(db)
        return count
    }

    /// Postings collected for a batch and written in key order, which keeps B-tree inserts local.
    final class PostingBuffer {
        var rows: [(termId: Int64, kind: Int, rank: Int, docId: Int64)] = []

        func write(_ db: Database) throws {
            rows.sort { ($0.termId, $0.kind, $0.rank, $0.docId) < ($1.termId, $1.kind, $1.rank, $1.docId) }
            var insert = FastStatement(
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO searchPosting (termId, kind, rank, docId) VALUES (?, ?, ?, ?)"))
            for row in rows {
                insert.bind(row.termId)
                insert.bind(row.kind)
                insert.bind(row.rank)
                insert.bind(row.docId)
                try insert.step()
            }
            rows = []
        }
    }

    /// Inserts a document known not to be indexed yet (rebuild, bulk import); counts are flushed by the caller.
    static func upsertFresh(_ input: Input, _ db: Database, terms: Terms, postings: PostingBuffer? = nil) throws {
        try insertFresh(
            kind: input.kind, entityId: input.entityId, main: IndexedName(input.name), secondary: input.secondary.map(IndexedName.init),
            popularity: input.popularity ?? 0, createdAt: input.createdAt, db, terms: terms, postings: postings)
    }

    static func insertFresh(
        kind: SearchRequest.Kind, entityId: UUID, main: IndexedName, secondary: [IndexedName], popularity: Double, createdAt: Date, _ db: Database,
        terms: Terms, postings: PostingBuffer?
    ) throws {
        let secondaryTerms = secondary.flatMap(\.terms)
        let rank = SearchIndexRules.postingRank(popularity)
        let kindCode = SearchIndexRules.code(kind)
        var insert = FastStatement(
            try db.cachedStatement(
                sql: """
                    INSERT INTO searchDoc (kind, entityId, name, primaryTerms, secondaryTerms, popularity, popularityAt, postingRank, createdAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """))
        insert.bind(kindCode)
        insert.bind(entityId)
        insert.bind(main.words)
        insert.bind(main.terms.joined(separator: " "))
        insert.bind(secondaryTerms.joined(separator: " "))
        insert.bind(popularity)
        insert.bind(Date().timeIntervalSince1970)
        insert.bind(rank)
        insert.bind(createdAt.timeIntervalSince1970)
        try insert.step()
        let docId = db.lastInsertedRowID
        var seen = Set<String>()
        for term in main.terms + secondaryTerms where seen.insert(term).inserted {
            let id = try terms.id(term, db)
            terms.countChanges[id, default: 0] += 1
            if let postings {
                postings.rows.append((id, kindCode, rank, docId))
            } else {
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO searchPosting (termId, kind, rank, docId) VALUES (?, ?, ?, ?)")
                    .execute(arguments: [id, kindCode, rank, docId])
            }
        }
    }
}
