import Foundation

/// What a blob store knows about one stored object.
public struct BlobInfo: Sendable, Equatable {
    public var key: BlobKey
    public var size: Int
    /// A strong validator that changes whenever the object's bytes could have changed.
    public var etag: String
    public var modifiedAt: Date

    public init(key: BlobKey, size: Int, etag: String, modifiedAt: Date) {
        self.key = key
        self.size = size
        self.etag = etag
        self.modifiedAt = modifiedAt
    }
}

/// Object storage: write-once objects under ``BlobKey``s, plus pre-signed URLs so that audio bytes go
/// between clients and storage without passing through API handlers.
///
/// The API is one an S3 bucket can implement as well as a local directory: whole objects in and out of
/// local files (the pipeline works on copies in its own work directory), metadata, prefix listing and
/// deletion, and signing. Every implementation passes the contract suite in `EncoreTestSupport`.
public protocol BlobStore: Sendable {
    /// Stores the local file at `path` under `key`, all or nothing. Throws `object_exists` when the key is taken.
    func putFile(_ key: BlobKey, from path: String) async throws -> BlobInfo

    /// Writes the object's bytes to a new local file at `path`. Throws `object_not_found` when there is none.
    func fetch(_ key: BlobKey, to path: String) async throws

    /// The bytes of `range` within the object, cut short at its end (an empty `Data` past it). Throws
    /// `object_not_found` when there is none. For peeking at a header, or relaying a part of an object.
    func read(_ key: BlobKey, range: Range<Int>) async throws -> Data

    /// Copies an object to a new key (write-once).
    func copy(_ source: BlobKey, to destination: BlobKey) async throws

    /// The object's metadata, or nil when there is none.
    func info(_ key: BlobKey) async throws -> BlobInfo?

    /// Renames an object. Throws `object_not_found` when the source is missing (e.g. moved already)
    /// and `object_exists` when the destination is taken.
    func move(_ source: BlobKey, to destination: BlobKey) async throws

    /// Removes an object; removing a missing object is not an error.
    func delete(_ key: BlobKey) async throws

    /// Removes every object at or below `prefix`.
    func deleteAll(under prefix: BlobKey) async throws

    /// Keys at or below `prefix`, sorted.
    func list(under prefix: BlobKey) async throws -> [BlobKey]

    /// Throws `storage_unavailable` (retryable) when objects cannot be written or read right now. Cheap
    /// enough to call before handing out upload and stream URLs.
    func checkWritable() async throws

    /// A URL a client may `PUT` the object's bytes to until `expiresAt`; at most `maxBytes`, for this key
    /// only. With `exactBytes`, the client declared its size: the URL is good for that many bytes only,
    /// where the store can bind it (S3 signs the `Content-Length`; a local store caps at it).
    func signedUploadURL(for key: BlobKey, maxBytes: Int, exactBytes: Int?, expiresAt: Date) throws -> String

    /// A URL a client may `GET`/`HEAD` `key` from until `expiresAt`. Where the store supports it, the URL's
    /// signature covers all of `scope` (a prefix of `key`) so that relative references from `key` work too.
    func signedReadURL(for key: BlobKey, scope: BlobKey, expiresAt: Date) throws -> String
}
