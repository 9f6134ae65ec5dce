import EncoreCore
import Foundation
import Synchronization

/// A ``BlobStore`` in memory, for fast tests of the services. It passes the same ``BlobStoreContract`` as
/// the local directory store. Signed URLs name the key and the grant in plain text (`memory://…`): they
/// are for tests to read, not for anyone to verify.
public final class InMemoryBlobStore: BlobStore {
    private struct Object {
        var bytes: Data
        var info: BlobInfo
    }

    private let objects = Mutex<[BlobKey: Object]>([:])
    private let clock = Mutex(0)

    public init() {}

    /// Stores `bytes` under `key` directly (an upload arriving through a signed URL, say).
    public func store(_ bytes: Data, at key: BlobKey) throws -> BlobInfo {
        try objects.withLock { objects in
            guard objects[key] == nil else { throw Self.exists(key) }
            let info = makeInfo(key, size: bytes.count)
            objects[key] = Object(bytes: bytes, info: info)
            return info
        }
    }

    /// Every key stored, sorted.
    public var keys: [BlobKey] { objects.withLock { $0.keys.sorted() } }

    private func makeInfo(_ key: BlobKey, size: Int) -> BlobInfo {
        let version = clock.withLock { clock in
            clock += 1
            return clock
        }
        return BlobInfo(key: key, size: size, etag: "\"\(version)\"", modifiedAt: Date())
    }

    public func putFile(_ key: BlobKey, from path: String) async throws -> BlobInfo {
        guard let bytes = FileManager.default.contents(atPath: path) else { throw EncoreError(.storageError, "cannot read \(path)") }
        return try store(bytes, at: key)
    }

    public func fetch(_ key: BlobKey, to path: String) async throws {
        guard let bytes = objects.withLock({ $0[key]?.bytes }) else { throw Self.missing(key) }
        guard FileManager.default.createFile(atPath: path, contents: bytes) else { throw EncoreError(.storageError, "cannot write \(path)") }
    }

    public func read(_ key: BlobKey, range: Range<Int>) async throws -> Data {
        guard let bytes = objects.withLock({ $0[key]?.bytes }) else { throw Self.missing(key) }
        return bytes.subdata(in: min(range.lowerBound, bytes.count)..<min(range.upperBound, bytes.count))
    }

    public func copy(_ source: BlobKey, to destination: BlobKey) async throws {
        try objects.withLock { objects in
            guard let object = objects[source] else { throw Self.missing(source) }
            guard objects[destination] == nil else { throw Self.exists(destination) }
            objects[destination] = Object(
                bytes: object.bytes,
                info: BlobInfo(key: destination, size: object.info.size, etag: object.info.etag, modifiedAt: object.info.modifiedAt))
        }
    }

    public func info(_ key: BlobKey) async throws -> BlobInfo? { objects.withLock { $0[key]?.info } }

    public func move(_ source: BlobKey, to destination: BlobKey) async throws {
        try objects.withLock { objects in
            guard let object = objects[source] else { throw Self.missing(source) }
            guard objects[destination] == nil else { throw Self.exists(destination) }
            objects[source] = nil
            objects[destination] = Object(
                bytes: object.bytes,
                info: BlobInfo(key: destination, size: object.info.size, etag: object.info.etag, modifiedAt: object.info.modifiedAt))
        }
    }

    public func delete(_ key: BlobKey) async throws { _ = objects.withLock { $0.removeValue(forKey: key) } }

    public func deleteAll(under prefix: BlobKey) async throws {
        objects.withLock { objects in objects = objects.filter { !$0.key.isWithin(prefix) } }
    }

    public func list(under prefix: BlobKey) async throws -> [BlobKey] {
        objects.withLock { objects in objects.keys.filter { $0.isWithin(prefix) }.sorted() }
    }

    public func checkWritable() async throws {}

    public func signedUploadURL(for key: BlobKey, maxBytes: Int, exactBytes: Int?, expiresAt: Date) throws -> String {
        "memory://put/\(Int(expiresAt.timeIntervalSince1970))/\(exactBytes ?? maxBytes)/\(key.rawValue)"
    }

    public func signedReadURL(for key: BlobKey, scope: BlobKey, expiresAt: Date) throws -> String {
        "memory://get/\(Int(expiresAt.timeIntervalSince1970))/\(scope.rawValue)/-/\(key.rawValue)"
    }

    static func exists(_ key: BlobKey) -> EncoreError { EncoreError(.objectExists, "An object named \(key) exists already.") }
    static func missing(_ key: BlobKey) -> EncoreError { EncoreError(.objectNotFound, "No object named \(key).") }
}
