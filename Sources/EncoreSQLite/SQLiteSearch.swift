import EncoreCore
import Foundation
import GRDB

/// Catalog search on the SQLite index: each query word is expanded to the terms it may match (exact,
/// prefix for the last word, typos within its edit budget), candidates come from the postings of the
/// most selective word in popularity order, and ``SearchRanker`` orders them.
struct SQLiteSearch: CatalogSearch {
    let executor: SQLiteExecutor

    func search(_ request: SearchRequest) async throws -> SearchResults {
        let words = SearchText.queryTerms(request.query)
        guard !words.isEmpty else { return SearchResults() }
        return try await executor.read { db in
            let candidates = try Self.expand(words, db)
            let ranked = try request.wantedKinds.map { kind in (kind, try Self.rank(kind: kind, words: candidates, wanted: request.wanted, db)) }
            return SearchResults(page: request, of: ranked)
        }
    }

    func reindex() async throws -> Int {
        try await executor.write { db in try SearchIndexer.rebuild(db) }
    }

    /// The terms each query word may match, with ids and document counts.
    struct ExpandedWord {
        var candidates: WordCandidates
        var termIds: [(id: Int64, quality: MatchQuality)]
        var documents: Int
    }

    static func expand(_ words: [String], _ db: Database) throws -> [ExpandedWord] {
        try words.enumerated().map { index, word in
            var qualities: [String: MatchQuality] = [:]
            var ids: [String: (Int64, Int)] = [:]
            func add(_ row: Row, _ quality: MatchQuality) {
                let term: String = row["term"]
                if quality > (qualities[term] ?? .none) { qualities[term] = quality }
                ids[term] = (row["termId"], row["docCount"])
            }
            if let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT termId, term, docCount FROM searchTerm WHERE term = ?"), arguments: [word])
            {
                add(row, .exact)
            }
            // Search-as-you-type: the last word may be the start of a longer one.
            if index == words.count - 1, word.count >= 2, let upper = SearchIndexRules.successor(of: word) {
                let rows = try Row.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT termId, term, docCount FROM searchTerm
                            WHERE term > ? AND term < ? AND docCount > 0 ORDER BY docCount DESC LIMIT 40
                            """), arguments: [word, upper])
                for row in rows { add(row, .prefix) }
            }
            let budget = SearchText.editBudget(for: word)
            if budget > 0 {
                let variants = Array(SearchText.deletions(word, upTo: budget))
                for chunk in stride(from: 0, to: variants.count, by: 200).map({ Array(variants[$0..<min($0 + 200, variants.count)]) }) {
                    let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                    let rows = try Row.fetchAll(
                        db,
                        sql: """
                            SELECT DISTINCT t.termId, t.term, t.docCount FROM searchVariant v JOIN searchTerm t ON t.termId = v.termId
                            WHERE v.variant IN (\(marks)) AND t.docCount > 0
                            """, arguments: StatementArguments(chunk))
                    for row in rows where SearchText.distance(word, row["term"], limit: budget) != nil {
                        add(row, .fuzzy)
                    }
                }
            }
            let termIds = ids.map { (term, value) in (id: value.0, quality: qualities[term] ?? .fuzzy) }
            return ExpandedWord(
                candidates: WordCandidates(word: word, qualities: qualities), termIds: termIds,
                documents: ids.values.reduce(0) { $0 + $1.1 })
        }
    }

    static func rank(kind: SearchRequest.Kind, words: [ExpandedWord], wanted: Int, _ db: Database) throws -> [SearchHit] {
        // Every word must match, so candidates can come from the most selective word alone.
        guard let seed = words.min(by: { $0.documents < $1.documents }), !seed.termIds.isEmpty else { return [] }
        let kindCode = SearchIndexRules.code(kind)
        let postings = try db.cachedStatement(sql: "SELECT docId FROM searchPosting WHERE termId = ? AND kind = ? ORDER BY rank LIMIT ?")
        var docIds = Set<Int64>()
        // The query as a whole name, and as the beginning of one (typing in progress): the first 100 such names
        // in order (the index's order, so the cut is the same on every engine and every plan).
        let phrase = words.map(\.candidates.word).joined(separator: " ")
        docIds.formUnion(
            try Int64.fetchAll(
                db.cachedStatement(sql: "SELECT docId FROM searchDoc WHERE kind = ? AND name = ? LIMIT 200"), arguments: [kindCode, phrase]))
        if let upper = SearchIndexRules.successor(of: phrase) {
            docIds.formUnion(
                try Int64.fetchAll(
                    db.cachedStatement(sql: "SELECT docId FROM searchDoc WHERE kind = ? AND name > ? AND name < ? ORDER BY name LIMIT 100"),
                    arguments: [kindCode, phrase, upper]))
        }
        // The most popular documents of each candidate term. An exact term gets the full allowance, so typo
        // and prefix neighbours can never crowd it out; the others share one, so a short prefix with many
        // completions costs no more than a word.
        let exact = seed.termIds.filter { $0.quality == .exact }
        let others = seed.termIds.filter { $0.quality != .exact }
        for term in exact { docIds.formUnion(try Int64.fetchAll(postings, arguments: [term.id, kindCode, SearchIndexRules.maxPostingsPerTerm])) }
        let share = max(50, SearchIndexRules.maxPostingsPerTerm * 2 / max(others.count, 1))
        for term in others { docIds.formUnion(try Int64.fetchAll(postings, arguments: [term.id, kindCode, share])) }
        guard !docIds.isEmpty else { return [] }
        let now = Date().timeIntervalSince1970
        let candidates = words.map(\.candidates)
        var hits: [SearchHit] = []
        let ids = Array(docIds)
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = Array(ids[start..<min(start + 500, ids.count)])
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT entityId, name, primaryTerms, secondaryTerms, popularity, popularityAt, createdAt
                    FROM searchDoc WHERE docId IN (\(marks))
                    """, arguments: StatementArguments(chunk))
            for row in rows {
                let document = SearchDocument(
                    kind: kind, id: row["entityId"], name: SearchIndexRules.terms(row["name"]), primary: SearchIndexRules.terms(row["primaryTerms"]),
                    secondary: SearchIndexRules.terms(row["secondaryTerms"]),
                    popularity: SearchIndexRules.decayed(row["popularity"], from: row["popularityAt"], to: now),
                    createdAt: Date(timeIntervalSince1970: row["createdAt"]))
                if let score = SearchRanker.score(document, words: candidates) {
                    hits.append(SearchHit(kind: kind, id: document.id, score: score))
                }
            }
        }
        hits.sort { $0.score != $1.score ? $0.score > $1.score : $0.id.uuidString < $1.id.uuidString }
        return Array(hits.prefix(wanted))
    }
}
