import Crypto
import EncoreBlobs
import EncoreCore
import EncoreTestSupport
import Foundation
import NIOCore
import Testing

@Suite("LocalBlobStore passes the BlobStore contract", .timeLimit(.minutes(5)))
struct LocalBlobStoreTests {
    /// `bytes` as an async sequence of buffers of `chunk` bytes, as an HTTP body arrives.
    static func body(_ bytes: [UInt8], chunk: Int = 7) -> AsyncStream<ByteBuffer> {
        AsyncStream { continuation in
            var index = 0
            while index < bytes.count {
                continuation.yield(ByteBuffer(bytes: bytes[index..<min(index + chunk, bytes.count)]))
                index += chunk
            }
            continuation.finish()
        }
    }

    static func withStore(_ body: (LocalBlobStore, String) async throws -> Void) async throws {
        let directory = NSTemporaryDirectory() + "/encore-blobs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try LocalBlobStore(
            root: directory + "/blobs", temporaryDirectory: directory + "/tmp", signer: MediaURLSigner(secret: SymmetricKey(size: .bits256)),
            baseURL: { "http://media.test" })
        try await body(store, directory)
    }

    @Test("contract", arguments: BlobStoreContract.checks.map(\.0))
    func contract(name: String) async throws {
        let check = try #require(BlobStoreContract.checks.first { $0.0 == name }?.1)
        try await Self.withStore { store, directory in
            try await check(store)
            // Nothing is ever left in the temporary directory.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/tmp").isEmpty)
        }
    }

    // Uploads through Encore's own origin stream into the store: all or nothing, within the limit.

    @Test("streamed uploads: write-once, size limit, failed bodies leave nothing")
    func streamedUploads() async throws {
        try await Self.withStore { (store: LocalBlobStore, directory: String) async throws -> Void in
            let key = BlobKey("uploads/u/1")!
            #expect(try await store.put(key, body: Self.body(Array(repeating: 0, count: 100)), maxBytes: 100).size == 100)  // at the limit
            let again = await BlobStoreContract.errorCode { _ = try await store.put(key, body: Self.body([2]), maxBytes: 10) }
            #expect(again == "object_exists")
            let big = BlobKey("uploads/u/2")!
            let tooLarge = await BlobStoreContract.errorCode {
                _ = try await store.put(big, body: Self.body(Array(repeating: 0, count: 101)), maxBytes: 100)
            }
            #expect(tooLarge == "upload_too_large")
            #expect(try await store.info(big) == nil)
            let failing = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
                continuation.yield(ByteBuffer(bytes: [1, 2, 3]))
                continuation.finish(throwing: Broken())
            }
            await #expect(throws: Broken.self) { _ = try await store.put(BlobKey("uploads/u/3")!, body: failing, maxBytes: 100) }
            #expect(try await store.info(BlobKey("uploads/u/3")!) == nil)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/tmp").isEmpty)
        }
    }

    @Test("deleting the last object of a prefix removes its empty directories")
    func pruning() async throws {
        try await Self.withStore { store, directory in
            _ = try await store.put(BlobKey("tracks/t1/a")!, body: Self.body([1]), maxBytes: 10)
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

private struct Broken: Error {}

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
