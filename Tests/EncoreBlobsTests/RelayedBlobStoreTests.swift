import Crypto
import EncoreBlobs
import EncoreCore
import EncoreTestSupport
import Foundation
import NIOCore
import Testing

@Suite("RelayedBlobStore: playlists through the media origin, everything else the store's own", .timeLimit(.minutes(1)))
struct RelayedBlobStoreTests {
    static func store() -> (RelayedBlobStore, InMemoryBlobStore) {
        let base = InMemoryBlobStore()
        return (
            RelayedBlobStore(base: base, signer: MediaURLSigner(secret: SymmetricKey(size: .bits256)), mediaBaseURL: { "http://edge.test" }), base
        )
    }

    @Test("contract", arguments: BlobStoreContract.checks.map(\.0))
    func contract(name: String) async throws {
        let check = try #require(BlobStoreContract.checks.first { $0.0 == name }?.1)
        try await check(Self.store().0)
    }

    @Test("playlists and manifests get a media URL whose token covers the folder; single objects the store's URL")
    func signing() throws {
        let (store, _) = Self.store()
        let scope = BlobKey("tracks/t/media-m")!
        let expiry = Date().addingTimeInterval(60)
        for name in ["hls/master.m3u8", "dash/manifest.mpd"] {
            let url = try store.signedReadURL(for: scope.appending(name)!, scope: scope, expiresAt: expiry)
            #expect(url.hasPrefix("http://edge.test/media/") && url.hasSuffix("/tracks/t/media-m/" + name), "\(url)")
            let token = try #require(url.dropFirst("http://edge.test/media/".count).split(separator: "/").first.map(String.init))
            // Relative references from the playlist resolve to keys the same token opens.
            #expect(try store.verify(token: token, method: "GET", key: scope.appending("hls/aac-96/seg-00001.m4s")!).scope == scope)
            #expect(throws: EncoreError.self) { try store.verify(token: token, method: "GET", key: BlobKey("tracks/other/x.m4s")!) }
            #expect(throws: EncoreError.self) { try store.verify(token: token, method: "PUT", key: scope.appending(name)!) }
        }
        for name in ["progressive/aac-160.m4a", "original.flac"] {
            #expect(try store.signedReadURL(for: scope.appending(name)!, scope: scope, expiresAt: expiry).hasPrefix("memory://"))
        }
        #expect(try store.signedUploadURL(for: BlobKey("uploads/u/1")!, maxBytes: 10, exactBytes: nil, expiresAt: expiry).hasPrefix("memory://"))
    }

    @Test("whole objects for the origin's memory cache: the bytes with their info, nothing when too large or missing")
    func contents() async throws {
        let (store, base) = Self.store()
        let info = try base.store(Data("#EXTM3U\n".utf8), at: BlobKey("tracks/t/m/hls/master.m3u8")!)
        let whole = try #require(try await store.contents(of: info.key, upTo: 100))
        #expect(whole.info == info && whole.bytes.readableBytes == info.size)
        #expect(try await store.contents(of: info.key, upTo: 3) == nil)
        #expect(try await store.contents(of: BlobKey("tracks/t/m/missing")!, upTo: 100) == nil)
    }
}
