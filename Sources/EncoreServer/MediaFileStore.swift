import EncoreCore
import Foundation
import NIOCore

/// What Encore's own media origin needs of a blob store whose objects are local files: tokens it can
/// check, files it can send (with `sendfile(2)` or from memory), and uploads it can receive. The local
/// blob store provides it; an object store that serves and receives bytes itself (S3) does not need the
/// origin at all.
public protocol MediaFileStore: Sendable {
    /// Checks a media request against its token; returns the grant it carries.
    func verify(token: String, method: String, key: BlobKey, now: Date) throws -> MediaGrant
    func info(_ key: BlobKey) async throws -> BlobInfo?
    /// The file holding `key`'s bytes.
    func path(of key: BlobKey) -> String
    /// An open read-only descriptor on the object's file and the info of that very file; the caller closes it.
    func openForReading(_ key: BlobKey) -> (descriptor: CInt, info: BlobInfo)?
    /// The whole object in memory with the info of exactly those bytes; nil when missing or larger than `maxBytes`.
    func contents(of key: BlobKey, upTo maxBytes: Int) async throws -> (info: BlobInfo, bytes: ByteBuffer)?
    /// Stores a streamed body under `key`, all or nothing; `upload_too_large` past `maxBytes`.
    func put<Body: AsyncSequence>(_ key: BlobKey, body: Body, maxBytes: Int) async throws -> BlobInfo where Body.Element == ByteBuffer
}
