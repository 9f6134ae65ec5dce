import EncoreCore
import Foundation
import GRDB

/// The search documents inside the catalog database, one per artist, album and track, with their
/// normalised terms and popularity, written in the caller's transaction. Each process's
/// ``MemorySearchIndex`` is built from them and follows their revisions (set by the schema's triggers).
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

    /// Adds or replaces the document for `input.entityId`.
    static func upsert(_ input: Input, _ db: Database) throws {
        let now = Date().timeIntervalSince1970
        var popularity = input.popularity ?? 0
        if input.popularity == nil,
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT popularity, popularityAt FROM searchDoc WHERE entityId = ?"), arguments: [input.entityId])
        {
            popularity = SearchIndexRules.decayed(row["popularity"], from: row["popularityAt"], to: now)
        }
        try remove([input.entityId], db)
        var fresh = input
        fresh.popularity = popularity
        try upsertFresh(fresh, db)
    }

    /// Removes the documents of these entities.
    static func remove(_ entityIds: [UUID], _ db: Database) throws {
        let delete = try db.cachedStatement(sql: "DELETE FROM searchDoc WHERE entityId = ?")
        for entityId in entityIds { try delete.execute(arguments: [entityId]) }
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
        try db.execute(sql: "DELETE FROM searchDoc")
        var count = 0
        for id in try UUID.fetchAll(db, sql: "SELECT id FROM artist") {
            if let input = try artistInput(db, id: id, popularity: popularity[id] ?? 0) { try upsertFresh(input, db) }
            count += 1
        }
        for id in try UUID.fetchAll(db, sql: "SELECT id FROM album") {
            if let input = try albumInput(db, id: id, popularity: popularity[id] ?? 0) { try upsertFresh(input, db) }
            count += 1
        }
        for id in try UUID.fetchAll(db, sql: "SELECT id FROM track") {
            if let input = try trackInput(db, id: id, popularity: popularity[id] ?? 0) { try upsertFresh(input, db) }
            count += 1
        }
        return count
    }

    /// Inserts a document known not to be indexed yet (rebuild, bulk import).
    static func upsertFresh(_ input: Input, _ db: Database) throws {
        try insertFresh(
            kind: input.kind, entityId: input.entityId, main: IndexedName(input.name), secondary: input.secondary.map(IndexedName.init),
            popularity: input.popularity ?? 0, createdAt: input.createdAt, db)
    }

    static func insertFresh(
        kind: SearchRequest.Kind, entityId: UUID, main: IndexedName, secondary: [IndexedName], popularity: Double, createdAt: Date, _ db: Database
    ) throws {
        var insert = FastStatement(
            try db.cachedStatement(
                sql: """
                    INSERT INTO searchDoc (kind, entityId, name, primaryTerms, secondaryTerms, popularity, popularityAt, postingRank, createdAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """))
        insert.bind(SearchIndexRules.code(kind))
        insert.bind(entityId)
        insert.bind(main.words)
        insert.bind(main.terms.joined(separator: " "))
        insert.bind(secondary.flatMap(\.terms).joined(separator: " "))
        insert.bind(popularity)
        insert.bind(Date().timeIntervalSince1970)
        insert.bind(SearchIndexRules.postingRank(popularity))
        insert.bind(createdAt.timeIntervalSince1970)
        try insert.step()
    }
}
