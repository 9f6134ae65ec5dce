import Foundation

/// One search document as the database stores it (one per artist, album and track): what the
/// in-memory index (``MemorySearchIndex``) is built from.
public struct StoredSearchDocument: Sendable, Equatable {
    /// The store's id of this version of the document: re-indexing an entity gives it a new one.
    public var docId: Int64
    public var kind: SearchRequest.Kind
    public var entityId: UUID
    /// The main field as query words, space-separated (``IndexedName/words``).
    public var name: String
    /// Index terms of the main field, space-separated.
    public var primaryTerms: String
    /// Index terms of the other fields, space-separated.
    public var secondaryTerms: String
    /// Play count, decayed as of `popularityAt`.
    public var popularity: Double
    /// Seconds since 1970.
    public var popularityAt: Double
    /// Where the document sorts in each term's postings (``SearchIndexRules/postingRank(_:)``).
    public var postingRank: Int
    /// Seconds since 1970.
    public var createdAt: Double
    /// When the document was last written, in the store's order of search writes (see ``SearchDocumentSource``).
    public var revision: Int64

    public init(
        docId: Int64, kind: SearchRequest.Kind, entityId: UUID, name: String, primaryTerms: String, secondaryTerms: String, popularity: Double,
        popularityAt: Double, postingRank: Int, createdAt: Double, revision: Int64
    ) {
        self.docId = docId
        self.kind = kind
        self.entityId = entityId
        self.name = name
        self.primaryTerms = primaryTerms
        self.secondaryTerms = secondaryTerms
        self.popularity = popularity
        self.popularityAt = popularityAt
        self.postingRank = postingRank
        self.createdAt = createdAt
        self.revision = revision
    }
}

/// A document that was removed, and when (in revisions).
public struct SearchDocumentRemoval: Sendable, Equatable {
    public var entityId: UUID
    public var revision: Int64

    public init(entityId: UUID, revision: Int64) {
        self.entityId = entityId
        self.revision = revision
    }
}

/// Where an engine keeps its search documents, read in revision order.
///
/// Every write of a document (insert, replacement, a play changing its popularity) and every removal
/// gets a revision greater than any before it, and writes become visible in revision order: a reader
/// that sees revision `r` sees every write up to `r`. (SQLite has one writer; PostgreSQL serialises the
/// transactions that write documents.) So a reader that has applied everything up to `r` only ever
/// needs what comes after it.
public protocol SearchDocumentSource: Sendable {
    /// Up to `limit` documents written after `revision`, in revision order.
    func documents(after revision: Int64, limit: Int) async throws -> [StoredSearchDocument]
    /// The documents removed after `revision`.
    func removals(after revision: Int64) async throws -> [SearchDocumentRemoval]
    /// Rebuilds every stored document from the catalog, keeping popularity; returns how many.
    func rebuild() async throws -> Int
}
