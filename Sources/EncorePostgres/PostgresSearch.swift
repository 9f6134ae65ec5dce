import EncoreCore
import Foundation
import PostgresNIO

/// The search documents in PostgreSQL, for ``MemorySearchIndex``: read in revision order (the schema's
/// triggers number every write and removal, and make the transactions that write documents commit in
/// that order).
struct PostgresSearchDocuments: SearchDocumentSource {
    let executor: PostgresExecutor

    func documents(after revision: Int64, limit: Int) async throws -> [StoredSearchDocument] {
        try await executor.read { connection in
            try await connection.rows(
                """
                SELECT doc_id, kind, entity_id, name, primary_terms, secondary_terms, popularity, popularity_at, posting_rank, created_at, revision
                FROM search_doc WHERE revision > \(revision) ORDER BY revision LIMIT \(limit)
                """
            ).compactMap { row in
                guard let kind = SearchIndexRules.kind(code: try row.value("kind", as: Int.self)) else { return nil }
                return StoredSearchDocument(
                    docId: try row.value("doc_id"), kind: kind, entityId: try row.value("entity_id"), name: try row.value("name"),
                    primaryTerms: try row.value("primary_terms"), secondaryTerms: try row.value("secondary_terms"),
                    popularity: try row.value("popularity"), popularityAt: try row.value("popularity_at"),
                    postingRank: try row.value("posting_rank"), createdAt: try row.value("created_at"), revision: try row.value("revision"))
            }
        }
    }

    func removals(after revision: Int64) async throws -> [SearchDocumentRemoval] {
        try await executor.read { connection in
            try await connection.rows("SELECT entity_id, revision FROM search_removal WHERE revision > \(revision) ORDER BY revision").map { row in
                SearchDocumentRemoval(entityId: try row.value("entity_id"), revision: try row.value("revision"))
            }
        }
    }

    func rebuild() async throws -> Int {
        try await executor.write { connection in try await PostgresSearchIndexer.rebuild(connection) }
    }
}
