import Crypto
import EncoreApp
import EncoreBlobs
import EncoreCore
import Foundation
import NIOCore
import Testing

@testable import EncoreServer

@Suite("Media origin: signed URLs, ranges, validators, uploads", .timeLimit(.minutes(5)))
struct MediaOriginTests {
    /// A server with one ready track; hands the test its signed stream URL and the original bytes.
    func withTrack(
        _ configure: @Sendable @escaping (inout EncoreConfiguration) -> Void = { _ in },
        _ body: @Sendable @escaping (TestServer, String, Data) async throws -> Void
    ) async throws {
        let audio = try AudioFixtures.make(seconds: 2, format: "wav")
        try await withServer(configure) { server in
            let client = Client(server: server)
            let (token, _) = try await client.register()
            let (_, album) = try await client.artistAndAlbum(token)
            let id = try #require(try await client.readyTrack(audio, album: album, token: token)["id"] as? String)
            let stream = try await HTTP.send("GET", server.api + "/tracks/\(id)/stream", token: token)
            // The original, as uploaded: the progressive file whose bytes the test knows.
            let url = try #require((stream.json["progressive"] as? [[String: Any]])?.first?["url"] as? String)
            try await body(server, url, audio)
        }
    }

    @Test(
        "byte ranges per RFC 9110: a-b, a-, suffix, clamping, 416, multi-range, HEAD; served from memory and from disk alike",
        arguments: [64 << 20, 0])
    func ranges(mediaCacheBytes: Int) async throws {
        try await withTrack({ $0.mediaCacheBytes = mediaCacheBytes }) { _, url, audio in
            let size = audio.count
            let whole = try await HTTP.send("GET", url)
            #expect(whole.status == 200)
            #expect(whole.headers["accept-ranges"] == "bytes")
            #expect(whole.headers["content-length"] == String(size))
            #expect(whole.headers["content-type"] == "audio/wav")

            let first = try await HTTP.send("GET", url, headers: ["Range": "bytes=0-99"])
            #expect(first.status == 206)
            #expect(first.headers["content-range"] == "bytes 0-99/\(size)")
            #expect(first.body == audio.prefix(100))

            let open = try await HTTP.send("GET", url, headers: ["Range": "bytes=\(size - 10)-"])
            #expect(open.status == 206)
            #expect(open.body == audio.suffix(10))

            let suffix = try await HTTP.send("GET", url, headers: ["Range": "bytes=-25"])
            #expect(suffix.status == 206)
            #expect(suffix.headers["content-range"] == "bytes \(size - 25)-\(size - 1)/\(size)")
            #expect(suffix.body == audio.suffix(25))

            let longSuffix = try await HTTP.send("GET", url, headers: ["Range": "bytes=-\(size * 2)"])
            #expect(longSuffix.status == 206)
            #expect(longSuffix.body == audio)

            let clamped = try await HTTP.send("GET", url, headers: ["Range": "bytes=\(size - 5)-\(size + 1000)"])
            #expect(clamped.status == 206)
            #expect(clamped.headers["content-range"] == "bytes \(size - 5)-\(size - 1)/\(size)")

            for unsatisfiable in ["bytes=\(size)-", "bytes=\(size + 10)-\(size + 20)", "bytes=-0"] {
                let result = try await HTTP.send("GET", url, headers: ["Range": unsatisfiable])
                #expect(result.status == 416, "\(unsatisfiable)")
                #expect(result.headers["content-range"] == "bytes */\(size)")
            }

            // Invalid syntax and multiple ranges are ignored: the whole object, 200.
            for ignored in ["bytes=5-1", "items=0-1", "bytes=abc", "bytes=0-1,5-9"] {
                let result = try await HTTP.send("GET", url, headers: ["Range": ignored])
                #expect(result.status == 200, "\(ignored)")
                #expect(result.body == audio)
            }

            let head = try await HTTP.send("HEAD", url, headers: ["Range": "bytes=10-19"])
            #expect(head.status == 206)
            #expect(head.headers["content-length"] == "10")
            #expect(head.body.isEmpty)
        }
    }

    @Test("pipelined requests are answered in order, whichever path (sendfile or router) answers each")
    func pipelining() async throws {
        try await withTrack { _, url, audio in
            let original = try #require(URL(string: url))
            let port = try #require(original.port)
            let media = "GET \(original.path) HTTP/1.1\r\nHost: x\r\n\r\n"
            let health = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
            let head = "HEAD \(original.path) HTTP/1.1\r\nHost: x\r\n\r\n"
            let ranged = "GET \(original.path) HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n"
            // Both orders, in one write each: the router busy with the first, then the origin first.
            let connection = try RawConnection(port: port)
            let responses = try await connection.exchange(health + media + head + ranged + media + health, responses: 6, headRequests: [2])
            try #require(responses.map(\.status) == [200, 200, 200, 206, 200, 200])
            #expect(responses[0].body.starts(with: Data("{".utf8)))
            #expect(responses[1].body == audio)
            #expect(responses[2].headers["content-length"] == String(audio.count))
            #expect(responses[2].body.isEmpty)
            #expect(responses[3].body == audio.prefix(10))
            #expect(responses[4].body == audio)
            #expect(responses[5].body.starts(with: Data("{".utf8)))
            // A bad token on the fast path's doorstep still gets the router's JSON error.
            let tampered = original.path.replacingOccurrences(of: "/media/", with: "/media/x")
            let refused = try await connection.exchange("GET \(tampered) HTTP/1.1\r\nHost: x\r\n\r\n", responses: 1)
            #expect(refused.first?.status == 403)
        }
    }

    @Test("ETag drives If-None-Match (304) and If-Range")
    func validators() async throws {
        try await withTrack { _, url, audio in
            let first = try await HTTP.send("HEAD", url)
            let etag = try #require(first.headers["etag"])
            #expect(first.headers["last-modified"] != nil)
            #expect(try await HTTP.send("GET", url, headers: ["If-None-Match": etag]).status == 304)
            #expect(try await HTTP.send("GET", url, headers: ["If-None-Match": "\"other\""]).status == 200)
            #expect(try await HTTP.send("GET", url, headers: ["Range": "bytes=0-9", "If-Range": etag]).status == 206)
            let stale = try await HTTP.send("GET", url, headers: ["Range": "bytes=0-9", "If-Range": "\"stale\""])
            #expect(stale.status == 200)
            #expect(stale.body == audio)
        }
    }

    @Test("an expired stream URL is refused")
    func expired() async throws {
        try await withTrack({ $0.streamURLLifetime = .seconds(-5) }) { _, url, _ in
            let result = try await HTTP.send("GET", url)
            #expect(result.status == 403)
            #expect(result.errorCode == "url_expired")
        }
    }

    @Test("tampered tokens, other keys, other methods and path tricks are refused")
    func tampering() async throws {
        try await withTrack { server, url, _ in
            let parts = try #require(url.range(of: "/media/")).upperBound
            let rest = url[parts...]
            let slash = try #require(rest.firstIndex(of: "/"))
            let token = String(rest[..<slash])
            let key = String(rest[rest.index(after: slash)...])
            let media = server.baseURL + "/media/"

            // Flip one character of the signature, then of the payload.
            var signature = Array(token)
            signature[signature.count - 2] = signature[signature.count - 2] == "A" ? "B" : "A"
            #expect(try await HTTP.send("GET", media + String(signature) + "/" + key).errorCode == "invalid_signature")
            var payload = Array(token)
            payload[3] = payload[3] == "A" ? "B" : "A"
            #expect(try await HTTP.send("GET", media + String(payload) + "/" + key).errorCode == "invalid_signature")

            // The token covers one track's prefix only.
            let otherTrack = "tracks/\(UUID().uuidString.lowercased())/media-x/original.wav"
            let sibling = key.split(separator: "/").prefix(2).joined(separator: "/") + "/media-other/original.wav"
            #expect(try await HTTP.send("GET", media + token + "/" + sibling).errorCode == "outside_scope")
            #expect(try await HTTP.send("GET", media + token + "/" + otherTrack).errorCode == "outside_scope")
            // A read token does not allow writing.
            #expect(try await HTTP.send("PUT", url, body: Data("x".utf8)).errorCode == "method_not_allowed")
            // Traversal, encoded or not, never escapes the blob directory.
            for trick in ["/../../secret.key", "/..%2f..%2fsecret.key", "/%2e%2e/%2e%2e/secret.key", "//etc/passwd"] {
                let prefix = key.split(separator: "/").prefix(2).joined(separator: "/")
                let result = try await HTTP.send("GET", media + token + "/" + prefix + trick)
                #expect([400, 403, 404].contains(result.status), "\(trick)")
                #expect(
                    !String(decoding: result.body, as: UTF8.self).contains(
                        try String(contentsOfFile: server.dataDirectory + "/secret.key", encoding: .utf8)))
            }
            #expect(try await HTTP.send("GET", server.baseURL + "/media/garbage").status == 404)
        }
    }

    @Test("the edge's token check: a yes cacheable for the token's folder and life, refusals with their code in a header")
    func edgeAuthorization() async throws {
        try await withTrack { server, url, _ in
            let path = String(url[try #require(url.range(of: "/media/")).lowerBound...])
            func ask(_ uri: String?, method: String = "GET") async throws -> HTTPResult {
                var headers = ["X-Original-Method": method]
                if let uri { headers["X-Original-URI"] = uri }
                return try await HTTP.send("GET", server.baseURL + "/edge/authorize", headers: headers)
            }
            let yes = try await ask(path)
            #expect(yes.status == 200)
            let maxAge = try #require(yes.headers["cache-control"].flatMap { $0.hasPrefix("max-age=") ? Int($0.dropFirst(8)) : nil })
            #expect(maxAge > 3000 && maxAge < 3600, "the default stream URL lifetime is an hour: \(maxAge)")
            #expect(try await ask(path, method: "HEAD").status == 200)
            #expect(try await ask(path + "?anything=1").status == 200)  // the query is not part of the key

            let refused = try await ask(path, method: "PUT")
            #expect(refused.status == 403 && refused.headers["x-encore-error"] == "method_not_allowed")
            #expect(refused.headers["cache-control"]?.contains("max-age") != true, "a refusal must never be cached by the edge")
            // A character early in the payload: the last one of a base64url run may only carry padding bits.
            var tampered = Array(path)
            let early = "/media/".count + 3
            tampered[early] = tampered[early] == "A" ? "B" : "A"
            let forged = try await ask(String(tampered))
            #expect(forged.status == 403 && forged.headers["x-encore-error"] == "invalid_signature")
            #expect(try await ask(nil).status == 400)
        }
    }

    @Test("uploads: oversized by header or by stream, expired, reused for another key: refused, nothing left behind")
    func uploadLimits() async throws {
        try await withServer({ $0.maxUploadBytes = 1000 }) { server in
            let client = Client(server: server)
            let (token, _) = try await client.register()
            let grant = try await HTTP.send("GET", server.api + "/tracks/upload-url", token: token)
            #expect(grant.json["maxBytes"] as? Int == 1000)
            let uploadUrl = try #require(grant.string("uploadUrl"))

            let declared = try await HTTP.send("PUT", uploadUrl, body: Data(count: 5000))
            #expect(declared.status == 413)
            #expect(declared.errorCode == "upload_too_large")
            #expect(try leftoverFiles(server).isEmpty)

            // No Content-Length: the limit is enforced while streaming.
            let streamed = try await streamingPut(uploadUrl, bytes: 64 * 1024)
            #expect(streamed == 413)
            #expect(try leftoverFiles(server).isEmpty)

            // The token names one key: it cannot write another.
            let lastSegment = try #require(uploadUrl.split(separator: "/").last).description
            let otherKey = uploadUrl.replacingOccurrences(of: lastSegment, with: UUID().uuidString.lowercased())
            #expect(try await HTTP.send("PUT", otherKey, body: Data(count: 10)).errorCode == "outside_scope")

            #expect(try await HTTP.send("PUT", uploadUrl, body: Data(count: 10)).status == 201)
            // Write-once: the same URL cannot overwrite what was stored.
            #expect(try await HTTP.send("PUT", uploadUrl, body: Data(count: 10)).errorCode == "object_exists")
        }
        try await withServer({ $0.uploadURLLifetime = .seconds(-5) }) { server in
            let (token, _) = try await Client(server: server).register()
            let grant = try await HTTP.send("GET", server.api + "/tracks/upload-url", token: token)
            let result = try await HTTP.send("PUT", try #require(grant.string("uploadUrl")), body: Data(count: 10))
            #expect(result.errorCode == "url_expired")
            #expect(try leftoverFiles(server).isEmpty)
        }
    }

    @Test("a large upload streams to disk and comes back intact")
    func largeUpload() async throws {
        try await withServer { server in
            let (token, _) = try await Client(server: server).register()
            let grant = try await HTTP.send("GET", server.api + "/tracks/upload-url", token: token)
            var bytes = Data(count: 48 << 20)
            bytes.withUnsafeMutableBytes { buffer in
                for index in stride(from: 0, to: buffer.count, by: 4096) { buffer[index] = UInt8(truncatingIfNeeded: index / 4096) }
            }
            let put = try await HTTP.send("PUT", try #require(grant.string("uploadUrl")), body: bytes)
            #expect(put.status == 201)
            #expect(put.json["size"] as? Int == bytes.count)
            let reference = try #require(grant.string("trackUrl"))
            let stored = try #require(FileManager.default.contents(atPath: server.dataDirectory + "/blobs/" + reference.dropFirst("blob:".count)))
            #expect(stored == bytes)
        }
    }
}

/// PUTs `bytes` zero bytes with chunked transfer encoding (no Content-Length) using curl; returns the status.
func streamingPut(_ url: String, bytes: Int) async throws -> Int {
    let directory = try temporaryDirectory("encore-put")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try Data(count: bytes).write(to: URL(fileURLWithPath: directory + "/body"))
    let output = try await runTool(
        "curl",
        [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H", "Transfer-Encoding: chunked", "-H", "Expect:", "--data-binary",
            "@" + directory + "/body", url,
        ])
    return Int(output) ?? -1
}

@Suite("Range header parsing", .timeLimit(.minutes(5)))
struct ByteRangeTests {
    @Test func outcomes() {
        #expect(ByteRange.evaluate(nil, size: 100) == .full)
        #expect(ByteRange.evaluate("bytes=0-0", size: 100) == .partial(0...0))
        #expect(ByteRange.evaluate("bytes=99-", size: 100) == .partial(99...99))
        #expect(ByteRange.evaluate("bytes=-1", size: 100) == .partial(99...99))
        #expect(ByteRange.evaluate("bytes=10-20 , ", size: 100) == .partial(10...20))
        #expect(ByteRange.evaluate("bytes=10 - 20", size: 100) == .full)  // no whitespace inside a range-spec
        #expect(ByteRange.evaluate("BYTES=0-9", size: 100) == .partial(0...9))
        #expect(ByteRange.evaluate("bytes=0-99999999999999999999999", size: 100) == .partial(0...99))
        #expect(ByteRange.evaluate("bytes=99999999999999999999999-", size: 100) == .unsatisfiable)
        #expect(ByteRange.evaluate("bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRange.evaluate("bytes=-5", size: 0) == .unsatisfiable)
        #expect(ByteRange.evaluate("bytes=200-300,400-", size: 100) == .unsatisfiable)
        #expect(ByteRange.evaluate("bytes=0-1,200-300", size: 100) == .full)
        #expect(ByteRange.evaluate("bytes=", size: 100) == .full)
        #expect(ByteRange.evaluate("bytes=1-2-3", size: 100) == .full)
        #expect(ByteRange.evaluate("bytes=+1-2", size: 100) == .full)
    }
}

@Suite("Media object cache", .timeLimit(.minutes(5)))
struct MediaObjectCacheTests {
    /// A blob store on a fresh directory, with `count` objects of `size` bytes written straight to disk.
    func withObjects(count: Int, size: Int, _ body: (LocalBlobStore, [BlobKey]) async throws -> Void) async throws {
        try await withBlobs { blobs in
            let keys = try (0..<count).map { try #require(BlobKey("tracks/t/seg-\($0).m4s")) }
            for (index, key) in keys.enumerated() { try write(Data(repeating: UInt8(index), count: size), to: key, in: blobs) }
            try await body(blobs, keys)
        }
    }

    /// Writes straight to the file behind `key` (the store would refuse to overwrite).
    func write(_ data: Data, to key: BlobKey, in blobs: LocalBlobStore) throws {
        let path = blobs.path(of: key)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path))
    }

    func withBlobs(_ body: (LocalBlobStore) async throws -> Void) async throws {
        let directory = NSTemporaryDirectory() + "encore-cache-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let blobs = try LocalBlobStore(
            root: directory + "/blobs", temporaryDirectory: directory + "/tmp", signer: MediaURLSigner(secret: SymmetricKey(size: .bits256)),
            baseURL: { "http://media.test" })
        try await body(blobs)
    }

    @Test("stays within its budget, evicting the least recently used")
    func budget() async throws {
        try await withObjects(count: 6, size: 100_000) { blobs, keys in
            let cache = MediaObjectCache(budget: 350_000)
            for key in keys.prefix(3) { _ = try await cache.load(key, from: blobs) }
            // Touch the first, so the second is now the least recently used.
            _ = cache.object(matching: try #require(try await blobs.info(keys[0])))
            _ = try await cache.load(keys[3], from: blobs)
            #expect(cache.size <= 350_000)
            #expect(cache.object(matching: try #require(try await blobs.info(keys[0]))) != nil)
            #expect(cache.object(matching: try #require(try await blobs.info(keys[1]))) == nil)
            #expect(cache.object(matching: try #require(try await blobs.info(keys[3])))?.bytes.readableBytes == 100_000)
            for key in keys { _ = try await cache.load(key, from: blobs) }
            #expect(cache.size <= 350_000)
        }
    }

    @Test("an object that changed on disk is not served from memory; large objects are not kept")
    func validation() async throws {
        try await withObjects(count: 1, size: 1_000) { blobs, keys in
            let cache = MediaObjectCache(budget: 1 << 20, largestObject: 2_000)
            let first = try #require(try await cache.load(keys[0], from: blobs))
            #expect(first.bytes.getBytes(at: 0, length: 1) == [0])
            try await blobs.delete(keys[0])
            try write(Data(repeating: 9, count: 1_500), to: keys[0], in: blobs)
            let info = try #require(try await blobs.info(keys[0]))
            #expect(info.etag != first.info.etag)
            #expect(cache.object(matching: info) == nil)
            #expect(try await cache.load(keys[0], from: blobs)?.bytes.readableBytes == 1_500)
            try await blobs.delete(keys[0])
            #expect(try await cache.load(keys[0], from: blobs) == nil)
            try write(Data(count: 3_000), to: keys[0], in: blobs)
            #expect(try await cache.load(keys[0], from: blobs) == nil)
        }
    }
}
