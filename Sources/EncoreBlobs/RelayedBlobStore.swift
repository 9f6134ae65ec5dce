import EncoreCore
import Foundation
import NIOCore

/// A blob store (S3) whose HLS and DASH media are served through Encore's media origin, and everything
/// else by the store's own pre-signed URLs.
///
/// A pre-signed S3 `GET` covers exactly one key, but a playlist names its segments by relative
/// references, and a master playlist names its variants. Rewriting every playlist per request with a
/// pre-signed URL per segment would make every listener's URLs unique, which defeats any shared cache.
/// Instead, read URLs for playlists and manifests are Encore media URLs (`/media/{token}/{key}`) whose
/// token covers the whole track folder: relative references resolve to URLs with the same token, the
/// media origin (or the caching edge in front of it) checks that token and relays the bytes from the
/// store. Progressive files, originals and covers are single objects and go straight to the store.
public struct RelayedBlobStore: BlobStore {
    public let base: any BlobStore
    let signer: MediaURLSigner
    /// Where listeners reach the media origin (or the edge): `http://host:port`.
    let mediaBaseURL: @Sendable () -> String

    public init(base: any BlobStore, signer: MediaURLSigner, mediaBaseURL: @escaping @Sendable () -> String) {
        self.base = base
        self.signer = signer
        self.mediaBaseURL = mediaBaseURL
    }

    public func signedReadURL(for key: BlobKey, scope: BlobKey, expiresAt: Date) throws -> String {
        // Playlists name others by relative references: their URL's signature must cover the folder.
        guard key.isPlaylist else { return try base.signedReadURL(for: key, scope: scope, expiresAt: expiresAt) }
        precondition(key.isWithin(scope), "a read URL's scope must contain its key")
        let token = signer.token(for: MediaGrant(access: .read, scope: scope, expiresAt: expiresAt))
        return "\(mediaBaseURL())/media/\(token)/\(key.rawValue)"
    }

    /// Checks a media request against its token; see ``MediaURLSigner/verify(token:method:key:now:)``.
    /// Only read tokens are ever issued here: uploads go to the store's own pre-signed URLs.
    public func verify(token: String, method: String, key: BlobKey, now: Date = Date()) throws -> MediaGrant {
        let grant = try signer.verify(token: token, method: method, key: key, now: now)
        guard grant.access == .read else { throw EncoreError(.methodNotAllowed, "Uploads go to object storage directly.") }
        return grant
    }

    /// The whole object in memory, or nil when it is missing or larger than `maxBytes`.
    public func contents(of key: BlobKey, upTo maxBytes: Int) async throws -> (info: BlobInfo, bytes: ByteBuffer)? {
        guard let info = try await base.info(key), info.size <= maxBytes else { return nil }
        let bytes = try await base.read(key, range: 0..<info.size)
        // Objects are write-once: a size that differs means it was deleted and made again meanwhile.
        guard bytes.count == info.size else { return nil }
        return (info, ByteBuffer(bytes: bytes))
    }

    /// The relay receives no uploads: write URLs are the store's own.
    public func put<Body: AsyncSequence>(_ key: BlobKey, body: Body, maxBytes: Int) async throws -> BlobInfo where Body.Element == ByteBuffer {
        throw EncoreError(.methodNotAllowed, "Uploads go to object storage directly.")
    }

    // Everything else is the store's.
    public func putFile(_ key: BlobKey, from path: String) async throws -> BlobInfo { try await base.putFile(key, from: path) }
    public func fetch(_ key: BlobKey, to path: String) async throws { try await base.fetch(key, to: path) }
    public func read(_ key: BlobKey, range: Range<Int>) async throws -> Data { try await base.read(key, range: range) }
    public func copy(_ source: BlobKey, to destination: BlobKey) async throws { try await base.copy(source, to: destination) }
    public func info(_ key: BlobKey) async throws -> BlobInfo? { try await base.info(key) }
    public func move(_ source: BlobKey, to destination: BlobKey) async throws { try await base.move(source, to: destination) }
    public func delete(_ key: BlobKey) async throws { try await base.delete(key) }
    public func deleteAll(under prefix: BlobKey) async throws { try await base.deleteAll(under: prefix) }
    public func list(under prefix: BlobKey) async throws -> [BlobKey] { try await base.list(under: prefix) }
    public func checkWritable() async throws { try await base.checkWritable() }
    public func signedUploadURL(for key: BlobKey, maxBytes: Int, exactBytes: Int?, expiresAt: Date) throws -> String {
        try base.signedUploadURL(for: key, maxBytes: maxBytes, exactBytes: exactBytes, expiresAt: expiresAt)
    }
}
