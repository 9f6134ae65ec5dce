import EncoreCore
import Foundation
import PostgresNIO

/// Catalog search on the PostgreSQL index: each query word is expanded to the terms it may match (exact,
/// prefix for the last word, typos within its edit budget), candidates come from the postings of the
/// most selective word in popularity order, and ``SearchRanker`` orders them. The SQLite store's
/// algorithm, with the same results.
///
/// Every statement is a round trip here, so the words are expanded together (one query for the exact
/// terms, one for the last word's completions, one for the typos of all words) and each kind's candidates
/// are gathered and read in one query. Text is compared bytewise (`COLLATE "C"`), as SQLite compares it.
struct PostgresSearch: CatalogSearch {
    let executor: PostgresExecutor

    func search(_ request: SearchRequest) async throws -> SearchResults {
        let words = SearchText.queryTerms(request.query)
        guard !words.isEmpty else { return SearchResults() }
        return try await executor.read { connection in
            let candidates = try await Self.expand(words, connection)
            var ranked: [(SearchRequest.Kind, [SearchHit])] = []
            for kind in request.wantedKinds {
                ranked.append((kind, try await Self.rank(kind: kind, words: candidates, wanted: request.wanted, connection)))
            }
            return SearchResults(page: request, of: ranked)
        }
    }

    func reindex() async throws -> Int {
        try await executor.write { connection in try await PostgresSearchIndexer.rebuild(connection) }
    }

    /// The terms each query word may match, with ids and document counts.
    struct ExpandedWord {
        var candidates: WordCandidates
        var termIds: [(id: Int64, quality: MatchQuality)]
        var documents: Int
    }

    static func expand(_ words: [String], _ connection: PostgresConnection) async throws -> [ExpandedWord] {
        var qualities = [[String: MatchQuality]](repeating: [:], count: words.count)
        var found = [[String: (id: Int64, documents: Int)]](repeating: [:], count: words.count)
        func add(_ index: Int, _ row: PostgresRandomAccessRow, _ quality: MatchQuality) throws {
            let term = try row.value("term", as: String.self)
            if quality > (qualities[index][term] ?? .none) { qualities[index][term] = quality }
            found[index][term] = (try row.value("term_id", as: Int64.self), try row.value("doc_count", as: Int.self))
        }
        let exact = try await connection.rows("SELECT term_id, term, doc_count FROM search_term WHERE term = ANY(\(words))")
        for row in exact {
            let term = try row.value("term", as: String.self)
            // The words the server found it for: it compares bytes.
            for index in words.indices where words[index].utf8.elementsEqual(term.utf8) { try add(index, row, .exact) }
        }
        // Search-as-you-type: the last word may be the start of a longer one.
        let last = words.count - 1
        if words[last].count >= 2, let upper = SearchIndexRules.successor(of: words[last]) {
            let rows = try await connection.rows(
                """
                SELECT term_id, term, doc_count FROM search_term
                WHERE term COLLATE "C" > \(words[last]) AND term COLLATE "C" < \(upper) AND doc_count > 0
                ORDER BY doc_count DESC, term COLLATE "C" LIMIT 40
                """)
            for row in rows { try add(last, row, .prefix) }
        }
        // Typos: the terms sharing a deletion variant with a word, verified by their distance. The variants
        // of every word in one query, each tagged with its word.
        var budgets = [Int](repeating: 0, count: words.count)
        var variants: [String] = []
        var owners: [Int] = []
        for (index, word) in words.enumerated() {
            budgets[index] = SearchText.editBudget(for: word)
            guard budgets[index] > 0 else { continue }
            for variant in SearchText.deletions(word, upTo: budgets[index]) {
                variants.append(variant)
                owners.append(index)
            }
        }
        if !variants.isEmpty {
            let rows = try await connection.rows(
                """
                SELECT DISTINCT q.word, t.term_id, t.term, t.doc_count
                FROM unnest(\(variants)::text[], \(owners)::bigint[]) AS q(variant, word)
                JOIN search_variant v ON v.variant = q.variant
                JOIN search_term t ON t.term_id = v.term_id
                WHERE t.doc_count > 0
                """)
            for row in rows {
                let index = try row.value("word", as: Int.self)
                guard words.indices.contains(index) else { continue }
                let term = try row.value("term", as: String.self)
                if SearchText.distance(words[index], term, limit: budgets[index]) != nil { try add(index, row, .fuzzy) }
            }
        }
        return words.indices.map { index in
            let termIds = found[index].map { entry in (id: entry.value.id, quality: qualities[index][entry.key] ?? .fuzzy) }
            return ExpandedWord(
                candidates: WordCandidates(word: words[index], qualities: qualities[index]), termIds: termIds,
                documents: found[index].values.reduce(0) { $0 + $1.documents })
        }
    }

    static func rank(kind: SearchRequest.Kind, words: [ExpandedWord], wanted: Int, _ connection: PostgresConnection) async throws -> [SearchHit] {
        // Every word must match, so candidates can come from the most selective word alone.
        guard let seed = words.min(by: { $0.documents < $1.documents }), !seed.termIds.isEmpty else { return [] }
        let kindCode = SearchIndexRules.code(kind)
        // The query as a whole name, and as the beginning of one (typing in progress). Without a successor
        // the bound is NULL, and the range matches nothing.
        let phrase = words.map(\.candidates.word).joined(separator: " ")
        let upper = SearchIndexRules.successor(of: phrase)
        // The most popular documents of each candidate term. An exact term gets the full allowance, so typo
        // and prefix neighbours can never crowd it out; the others share one, so a short prefix with many
        // completions costs no more than a word.
        let exact = seed.termIds.filter { $0.quality == .exact }
        let others = seed.termIds.filter { $0.quality != .exact }
        let share = max(50, SearchIndexRules.maxPostingsPerTerm * 2 / max(others.count, 1))
        let termIds = exact.map { $0.id } + others.map { $0.id }
        let limits = exact.map { _ in SearchIndexRules.maxPostingsPerTerm } + others.map { _ in share }
        // Candidates (whole name, name prefix, postings per term) and the documents they are, in one query.
        let rows = try await connection.rows(
            """
            WITH candidate (doc_id) AS (
                (SELECT doc_id FROM search_doc WHERE kind = \(kindCode) AND name COLLATE "C" = \(phrase) LIMIT 200)
                UNION ALL
                (SELECT doc_id FROM search_doc
                 WHERE kind = \(kindCode) AND name COLLATE "C" > \(phrase) AND name COLLATE "C" < \(upper)
                 ORDER BY name COLLATE "C" LIMIT 100)
                UNION ALL
                SELECT p.doc_id FROM unnest(\(termIds)::bigint[], \(limits)::bigint[]) AS t(id, lim)
                CROSS JOIN LATERAL (
                    SELECT doc_id FROM search_posting WHERE term_id = t.id AND kind = \(kindCode) ORDER BY rank LIMIT t.lim) p
            )
            SELECT entity_id, name, primary_terms, secondary_terms, popularity, popularity_at, created_at
            FROM search_doc WHERE doc_id IN (SELECT doc_id FROM candidate)
            """)
        let now = Date().timeIntervalSince1970
        let candidates = words.map(\.candidates)
        var hits: [SearchHit] = []
        for row in rows {
            let popularity = SearchIndexRules.decayed(try row.value("popularity"), from: try row.value("popularity_at"), to: now)
            let document = SearchDocument(
                kind: kind, id: try row.value("entity_id"), name: SearchIndexRules.terms(try row.value("name")),
                primary: SearchIndexRules.terms(try row.value("primary_terms")),
                secondary: SearchIndexRules.terms(try row.value("secondary_terms")), popularity: popularity, createdAt: try row.date("created_at"))
            if let score = SearchRanker.score(document, words: candidates) {
                hits.append(SearchHit(kind: kind, id: document.id, score: score))
            }
        }
        hits.sort { $0.score != $1.score ? $0.score > $1.score : $0.id.uuidString < $1.id.uuidString }
        return Array(hits.prefix(wanted))
    }
}
