import Foundation
import NIOCore

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
/// Every implementation passes the contract suite in `EncoreBlobsTests/BlobStoreContract.swift`.
public protocol BlobStore: Sendable {
    /// Stores `body` under `key`, all or nothing: a failed or oversized write leaves no object behind.
    /// Throws `tooLarge`/`upload_too_large` past `maxBytes`, `conflict`/`object_exists` when the key is taken.
    func put<Body: AsyncSequence>(_ key: BlobKey, body: Body, maxBytes: Int) async throws -> BlobInfo
    where Body.Element == ByteBuffer

    /// Stores the local file at `path` under `key` (write-once, like ``put(_:body:maxBytes:)``).
    func putFile(_ key: BlobKey, from path: String) async throws -> BlobInfo

    /// Copies an object to a new key (write-once).
    func copy(_ source: BlobKey, to destination: BlobKey) async throws

    /// The object's metadata, or nil when there is none.
    func info(_ key: BlobKey) async throws -> BlobInfo?

    /// Renames an object. Throws `notFound`/`object_not_found` when the source is missing (e.g. moved already)
    /// and `conflict`/`object_exists` when the destination is taken.
    func move(_ source: BlobKey, to destination: BlobKey) async throws

    /// Removes an object; removing a missing object is not an error.
    func delete(_ key: BlobKey) async throws

    /// Removes every object at or below `prefix`.
    func deleteAll(under prefix: BlobKey) async throws

    /// Keys at or below `prefix`, sorted.
    func list(under prefix: BlobKey) async throws -> [BlobKey]

    /// Where a media tool can read the object: a file path for local storage, a signed URL for remote storage.
    func readableLocation(of key: BlobKey) async throws -> String

    /// A URL a client may `PUT` the object's bytes to until `expiresAt`; at most `maxBytes`, for this key only.
    func signedUploadURL(for key: BlobKey, maxBytes: Int, expiresAt: Date) throws -> String

    /// A URL a client may `GET`/`HEAD` `key` from until `expiresAt`. Where the store supports it, the URL's
    /// signature covers all of `scope` (a prefix of `key`) so that relative references from `key` work too.
    func signedReadURL(for key: BlobKey, scope: BlobKey, expiresAt: Date) throws -> String
}
