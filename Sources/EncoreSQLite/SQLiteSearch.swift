import EncoreCore
import Foundation
import GRDB

/// The search documents in the SQLite file, for ``MemorySearchIndex``: read in revision order (the
/// schema's triggers number every write and removal; SQLite's one writer makes them visible in order).
struct SQLiteSearchDocuments: SearchDocumentSource {
    let executor: SQLiteExecutor

    func documents(after revision: Int64, limit: Int) async throws -> [StoredSearchDocument] {
        try await executor.read { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT docId, kind, entityId, name, primaryTerms, secondaryTerms, popularity, popularityAt, postingRank, createdAt, revision
                    FROM searchDoc WHERE revision > ? ORDER BY revision LIMIT ?
                    """)
            let rows = try Row.fetchCursor(statement, arguments: [revision, limit])
            var documents: [StoredSearchDocument] = []
            while let row = try rows.next() {
                guard let kind = SearchIndexRules.kind(code: row["kind"]) else { continue }
                documents.append(
                    StoredSearchDocument(
                        docId: row["docId"], kind: kind, entityId: row["entityId"], name: row["name"], primaryTerms: row["primaryTerms"],
                        secondaryTerms: row["secondaryTerms"], popularity: row["popularity"], popularityAt: row["popularityAt"],
                        postingRank: row["postingRank"], createdAt: row["createdAt"], revision: row["revision"]))
            }
            return documents
        }
    }

    func removals(after revision: Int64) async throws -> [SearchDocumentRemoval] {
        try await executor.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT entityId, revision FROM searchRemoval WHERE revision > ? ORDER BY revision"), arguments: [revision]
            ).map { SearchDocumentRemoval(entityId: $0["entityId"], revision: $0["revision"]) }
        }
    }

    func rebuild() async throws -> Int {
        try await executor.write { db in try SearchIndexer.rebuild(db) }
    }
}
