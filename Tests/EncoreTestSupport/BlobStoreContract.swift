import EncoreCore
import Foundation
import Testing

/// The behaviour every ``BlobStore`` must show; each implementation's suite runs these checks on a fresh,
/// empty store. (The S3 store will run the very same checks against a real S3 API server.)
public enum BlobStoreContract {
    public static func key(_ raw: String) -> BlobKey { BlobKey(raw)! }

    /// Every check by name: an implementation's suite runs each on a fresh, empty store.
    public static let checks: [(String, @Sendable (any BlobStore) async throws -> Void)] = [
        ("put/info/list/delete", putInfoListDelete),
        ("write once", objectsAreWriteOnce),
        ("fetch", fetchCopiesTheBytesOut),
        ("ranged read", rangedReadsCutAtTheEnd),
        ("copy", copiesAreIndependentObjects),
        ("move", movesAreAtomicRenames),
        ("prefix listing", listingAndDeletingByPrefix),
        ("signed URLs", signedURLsNameTheKey),
        ("writable", writableStoresSaySo),
    ]

    public static func errorCode(_ body: () async throws -> Void) async -> String? { await EncoreTestSupport.errorCode(body) }

    /// A new local file holding `bytes`, in a scratch directory of its own.
    public static func file(_ bytes: [UInt8]) throws -> String {
        let directory = NSTemporaryDirectory() + "encore-blob-contract-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/file"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Stores `bytes` under `raw` through ``BlobStore/putFile(_:from:)``.
    @discardableResult
    public static func put(_ store: any BlobStore, _ raw: String, _ bytes: [UInt8]) async throws -> BlobInfo {
        let path = try file(bytes)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        return try await store.putFile(key(raw), from: path)
    }

    /// The object's bytes, read back through ``BlobStore/fetch(_:to:)``.
    public static func bytes(_ store: any BlobStore, _ raw: String) async throws -> [UInt8] {
        let directory = NSTemporaryDirectory() + "encore-blob-contract-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.fetch(key(raw), to: directory + "/out")
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/out")))
    }

    public static func putInfoListDelete(_ store: any BlobStore) async throws {
        let bytes = Array("hello, blob store".utf8)
        let info = try await put(store, "a/b/one.txt", bytes)
        #expect(info.size == bytes.count)
        #expect(info.key == key("a/b/one.txt"))
        #expect(try await store.info(key("a/b/one.txt")) == info)
        #expect(try await store.info(key("a/b/missing")) == nil)
        #expect(try await store.info(key("a/b")) == nil)  // a "directory" is not an object
        try await put(store, "a/c/two.txt", [1, 2, 3])
        #expect(try await store.list(under: key("a")) == [key("a/b/one.txt"), key("a/c/two.txt")])
        try await store.delete(key("a/b/one.txt"))
        try await store.delete(key("a/b/one.txt"))  // idempotent
        #expect(try await store.info(key("a/b/one.txt")) == nil)
        try await store.deleteAll(under: key("a"))
        #expect(try await store.list(under: key("a")).isEmpty)
        try await store.deleteAll(under: key("a"))  // idempotent
    }

    public static func objectsAreWriteOnce(_ store: any BlobStore) async throws {
        try await put(store, "once", [1])
        #expect(await errorCode { try await put(store, "once", [2, 2]) } == "object_exists")
        #expect(try await store.info(key("once"))?.size == 1)
        #expect(try await bytes(store, "once") == [1])
    }

    public static func fetchCopiesTheBytesOut(_ store: any BlobStore) async throws {
        let payload = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await put(store, "tracks/t/source", payload)
        #expect(try await bytes(store, "tracks/t/source") == payload)
        let directory = NSTemporaryDirectory() + "encore-blob-contract-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(await errorCode { try await store.fetch(key("tracks/t/missing"), to: directory + "/x") } == "object_not_found")
        #expect(!FileManager.default.fileExists(atPath: directory + "/x"))
    }

    public static func rangedReadsCutAtTheEnd(_ store: any BlobStore) async throws {
        let payload = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try await put(store, "tracks/t/ranged", payload)
        #expect(try await [UInt8](store.read(key("tracks/t/ranged"), range: 0..<16)) == Array(payload[0..<16]))
        #expect(try await [UInt8](store.read(key("tracks/t/ranged"), range: 65_000..<69_999)) == Array(payload[65_000..<69_999]))
        #expect(try await [UInt8](store.read(key("tracks/t/ranged"), range: 69_990..<80_000)) == Array(payload[69_990...]))
        #expect(try await store.read(key("tracks/t/ranged"), range: 70_000..<70_010).isEmpty)
        #expect(await errorCode { _ = try await store.read(key("tracks/t/missing"), range: 0..<1) } == "object_not_found")
    }

    public static func copiesAreIndependentObjects(_ store: any BlobStore) async throws {
        try await put(store, "src/a", [4, 5, 6])
        try await store.copy(key("src/a"), to: key("dst/a"))
        try await store.delete(key("src/a"))
        #expect(try await bytes(store, "dst/a") == [4, 5, 6])
        #expect(await errorCode { try await store.copy(key("src/a"), to: key("dst/b")) } == "object_not_found")
        try await put(store, "src/c", [7])
        #expect(await errorCode { try await store.copy(key("src/c"), to: key("dst/a")) } == "object_exists")
    }

    public static func movesAreAtomicRenames(_ store: any BlobStore) async throws {
        try await put(store, "from/x", [9, 9])
        try await store.move(key("from/x"), to: key("to/y"))
        #expect(try await store.info(key("from/x")) == nil)
        #expect(try await store.info(key("to/y"))?.size == 2)
        #expect(await errorCode { try await store.move(key("from/x"), to: key("to/z")) } == "object_not_found")
        try await put(store, "from/w", [1])
        #expect(await errorCode { try await store.move(key("from/w"), to: key("to/y")) } == "object_exists")
        #expect(try await store.info(key("from/w")) != nil)
        #expect(try await bytes(store, "to/y") == [9, 9])
    }

    public static func listingAndDeletingByPrefix(_ store: any BlobStore) async throws {
        let names = (0..<25).map { "tracks/t1/media/seg\(String(format: "%03d", $0)).m4s" }
        for name in names { try await put(store, name, [1]) }
        try await put(store, "tracks/t10/other", [2])  // shares the prefix's characters, not its folder
        #expect(try await store.list(under: key("tracks/t1")) == names.map(key))
        try await store.deleteAll(under: key("tracks/t1"))
        #expect(try await store.list(under: key("tracks/t1")).isEmpty)
        #expect(try await store.list(under: key("tracks")) == [key("tracks/t10/other")])
    }

    public static func signedURLsNameTheKey(_ store: any BlobStore) async throws {
        let expiry = Date().addingTimeInterval(60)
        let upload = try store.signedUploadURL(for: key("uploads/u/1"), maxBytes: 10, exactBytes: nil, expiresAt: expiry)
        #expect(upload.contains("/uploads/u/1"))
        let read = try store.signedReadURL(for: key("tracks/t/a.flac"), scope: key("tracks/t"), expiresAt: expiry)
        #expect(read.contains("/tracks/t/a.flac"))
        #expect(upload != read)
    }

    public static func writableStoresSaySo(_ store: any BlobStore) async throws {
        try await store.checkWritable()
    }
}
