import Crypto
import EncoreBlobs
import EncoreCore
import Foundation
import Testing

@Suite("LocalBlobStore passes the BlobStore contract", .timeLimit(.minutes(5)))
struct LocalBlobStoreTests {
    static let checks: [(String, @Sendable (any BlobStore) async throws -> Void)] = [
        ("put/info/list/delete", BlobStoreContract.putInfoListDelete),
        ("write once", BlobStoreContract.objectsAreWriteOnce),
        ("size limit", BlobStoreContract.oversizedWritesLeaveNothing),
        ("failed body", BlobStoreContract.failedBodiesLeaveNothing),
        ("move", BlobStoreContract.movesAreAtomicRenames),
        ("signed URLs", BlobStoreContract.signedURLsNameTheKey),
    ]

    static func withStore(_ body: (LocalBlobStore, String) async throws -> Void) async throws {
        let directory = NSTemporaryDirectory() + "/encore-blobs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try LocalBlobStore(
            root: directory + "/blobs", temporaryDirectory: directory + "/tmp", signer: MediaURLSigner(secret: SymmetricKey(size: .bits256)),
            baseURL: { "http://media.test" })
        try await body(store, directory)
    }

    @Test("contract", arguments: checks.map(\.0))
    func contract(name: String) async throws {
        let check = try #require(Self.checks.first { $0.0 == name }?.1)
        try await Self.withStore { store, directory in
            try await check(store)
            // Nothing is ever left in the temporary directory.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/tmp").isEmpty)
        }
    }

    @Test("deleting the last object of a prefix removes its empty directories")
    func pruning() async throws {
        try await Self.withStore { store, directory in
            _ = try await store.put(BlobKey("tracks/t1/a")!, body: BlobStoreContract.body([1]), maxBytes: 10)
            try await store.delete(BlobKey("tracks/t1/a")!)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/blobs").isEmpty)
        }
    }

    @Test("signed URLs verify for their method, key and lifetime only")
    func signedURLs() async throws {
        try await Self.withStore { store, _ in
            let now = Date()
            let url = try store.signedReadURL(for: BlobKey("tracks/t/a.flac")!, scope: BlobKey("tracks/t")!, expiresAt: now.addingTimeInterval(60))
            #expect(url.hasPrefix("http://media.test/media/"))
            let token = String(url.dropFirst("http://media.test/media/".count).split(separator: "/")[0])
            let inScope = try store.verify(token: token, method: "GET", key: BlobKey("tracks/t/hls/seg1.m4s")!, now: now)
            #expect(inScope.access == .read)
            _ = try store.verify(token: token, method: "HEAD", key: BlobKey("tracks/t")!, now: now)
            #expect(throws: EncoreError.self) { try store.verify(token: token, method: "GET", key: BlobKey("tracks/t2/a.flac")!, now: now) }
            #expect(throws: EncoreError.self) { try store.verify(token: token, method: "PUT", key: BlobKey("tracks/t/a.flac")!, now: now) }
            #expect(throws: EncoreError.self) {
                try store.verify(token: token, method: "GET", key: BlobKey("tracks/t/a.flac")!, now: now.addingTimeInterval(61))
            }
        }
    }
}

@Suite("MediaURLSigner", .timeLimit(.minutes(5)))
struct MediaURLSignerTests {
    let signer = MediaURLSigner(secret: SymmetricKey(size: .bits256))
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func writeTokensAreExact() throws {
        let key = BlobKey("uploads/u/1")!
        let token = signer.token(for: MediaGrant(access: .write, scope: key, expiresAt: now.addingTimeInterval(10), maxBytes: 99))
        #expect(try signer.verify(token: token, method: "PUT", key: key, now: now).maxBytes == 99)
        #expect(throws: EncoreError.self) { try signer.verify(token: token, method: "PUT", key: BlobKey("uploads/u/1/x")!, now: now) }
        #expect(throws: EncoreError.self) { try signer.verify(token: token, method: "GET", key: key, now: now) }
    }

    @Test func foreignAndMangledTokensFail() throws {
        let key = BlobKey("tracks/t")!
        let token = signer.token(for: MediaGrant(access: .read, scope: key, expiresAt: now.addingTimeInterval(10)))
        let other = MediaURLSigner(secret: SymmetricKey(size: .bits256))
        #expect(throws: EncoreError.self) { try other.verify(token: token, method: "GET", key: key, now: now) }
        for mangled in ["", ".", token + "x", "x" + token, token.replacingOccurrences(of: ".", with: ""), String(token.reversed())] {
            #expect(throws: EncoreError.self, "\(mangled)") { try signer.verify(token: mangled, method: "GET", key: key, now: now) }
        }
        #expect(throws: Never.self) { try signer.verify(token: token, method: "GET", key: key, now: now) }
    }

    @Test func base64url() {
        let data = Data((0...255).map(UInt8.init))
        #expect(Data(base64URLEncoded: data.base64URLEncoded()) == data)
        #expect(!data.base64URLEncoded().contains(where: { "+/=".contains($0) }))
        #expect(Data(base64URLEncoded: "a+b") == nil)
    }
}
