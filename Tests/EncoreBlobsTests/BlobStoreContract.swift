import EncoreCore
import Foundation
import NIOCore
import Testing

/// The behaviour every ``BlobStore`` must show; each implementation's suite runs these checks on a fresh,
/// empty store. (The S3 store will run the very same checks against a real S3 API server.)
enum BlobStoreContract {
    static func key(_ raw: String) -> BlobKey { BlobKey(raw)! }

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

    static func errorCode(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as EncoreError {
            return error.code
        } catch {
            return "other:\(error)"
        }
    }

    static func putInfoListDelete(_ store: any BlobStore) async throws {
        let bytes = Array("hello, blob store".utf8)
        let info = try await store.put(key("a/b/one.txt"), body: body(bytes), maxBytes: 100)
        #expect(info.size == bytes.count)
        #expect(try await store.info(key("a/b/one.txt")) == info)
        #expect(try await store.info(key("a/b/missing")) == nil)
        #expect(try await store.info(key("a/b")) == nil)  // a "directory" is not an object
        _ = try await store.put(key("a/c/two.txt"), body: body([1, 2, 3]), maxBytes: 100)
        #expect(try await store.list(under: key("a")) == [key("a/b/one.txt"), key("a/c/two.txt")])
        try await store.delete(key("a/b/one.txt"))
        try await store.delete(key("a/b/one.txt"))  // idempotent
        #expect(try await store.info(key("a/b/one.txt")) == nil)
        try await store.deleteAll(under: key("a"))
        #expect(try await store.list(under: key("a")).isEmpty)
        try await store.deleteAll(under: key("a"))  // idempotent
    }

    static func objectsAreWriteOnce(_ store: any BlobStore) async throws {
        _ = try await store.put(key("once"), body: body([1]), maxBytes: 10)
        #expect(await errorCode { _ = try await store.put(key("once"), body: body([2, 2]), maxBytes: 10) } == "object_exists")
        #expect(try await store.info(key("once"))?.size == 1)
    }

    static func oversizedWritesLeaveNothing(_ store: any BlobStore) async throws {
        let code = await errorCode { _ = try await store.put(key("big"), body: body(Array(repeating: 0, count: 101)), maxBytes: 100) }
        #expect(code == "upload_too_large")
        #expect(try await store.info(key("big")) == nil)
        // Exactly at the limit is fine.
        #expect(try await store.put(key("big"), body: body(Array(repeating: 0, count: 100)), maxBytes: 100).size == 100)
    }

    static func failedBodiesLeaveNothing(_ store: any BlobStore) async throws {
        struct Broken: Error {}
        let failing = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
            continuation.yield(ByteBuffer(bytes: [1, 2, 3]))
            continuation.finish(throwing: Broken())
        }
        await #expect(throws: Broken.self) { _ = try await store.put(key("broken"), body: failing, maxBytes: 100) }
        #expect(try await store.info(key("broken")) == nil)
    }

    static func movesAreAtomicRenames(_ store: any BlobStore) async throws {
        _ = try await store.put(key("from/x"), body: body([9, 9]), maxBytes: 10)
        try await store.move(key("from/x"), to: key("to/y"))
        #expect(try await store.info(key("from/x")) == nil)
        #expect(try await store.info(key("to/y"))?.size == 2)
        #expect(await errorCode { try await store.move(key("from/x"), to: key("to/z")) } == "object_not_found")
        _ = try await store.put(key("from/w"), body: body([1]), maxBytes: 10)
        #expect(await errorCode { try await store.move(key("from/w"), to: key("to/y")) } == "object_exists")
        #expect(try await store.info(key("from/w")) != nil)
    }

    static func signedURLsNameTheKey(_ store: any BlobStore) async throws {
        let expiry = Date().addingTimeInterval(60)
        let upload = try store.signedUploadURL(for: key("uploads/u/1"), maxBytes: 10, expiresAt: expiry)
        #expect(upload.hasSuffix("/uploads/u/1"))
        let read = try store.signedReadURL(for: key("tracks/t/a.flac"), scope: key("tracks/t"), expiresAt: expiry)
        #expect(read.hasSuffix("/tracks/t/a.flac"))
        #expect(upload != read)
    }
}
