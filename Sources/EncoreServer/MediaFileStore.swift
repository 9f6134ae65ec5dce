import EncoreCore
import Foundation
import NIOCore

/// What Encore's own media origin needs of a blob store: tokens it can check, objects it can send, and
/// uploads it can receive. The local blob store keeps objects in files, sent with `sendfile(2)` or
/// from memory; a relay over S3 has no local files, and the origin reads byte ranges from the store.
public protocol MediaFileStore: Sendable {
    /// Checks a media request against its token; returns the grant it carries.
    func verify(token: String, method: String, key: BlobKey, now: Date) throws -> MediaGrant
    func info(_ key: BlobKey) async throws -> BlobInfo?
    /// The file holding `key`'s bytes, or nil when objects are not local files.
    func localPath(of key: BlobKey) -> String?
    /// An open read-only descriptor on the object's file and the info of that very file; the caller
    /// closes it. Nil when there is no such file.
    func openForReading(_ key: BlobKey) -> (descriptor: CInt, info: BlobInfo)?
    /// A byte range of the object, cut short at its end; for stores without local files.
    func read(_ key: BlobKey, range: Range<Int>) async throws -> Data
    /// The whole object in memory with the info of exactly those bytes; nil when missing or larger than `maxBytes`.
    func contents(of key: BlobKey, upTo maxBytes: Int) async throws -> (info: BlobInfo, bytes: ByteBuffer)?
    /// Stores a streamed body under `key`, all or nothing; `upload_too_large` past `maxBytes`.
    func put<Body: AsyncSequence>(_ key: BlobKey, body: Body, maxBytes: Int) async throws -> BlobInfo where Body.Element == ByteBuffer
}
