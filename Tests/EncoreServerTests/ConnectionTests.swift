import EncoreApp
import EncoreBlobs
import EncoreCore
import Foundation
import Testing

@testable import EncoreServer

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Large files over sendfile", .timeLimit(.minutes(5)))
struct LargeSendTests {
    /// A 24 MB object (more than the loopback socket buffers hold, so its send stays under way while the
    /// client reads slowly or not at all) stored straight into the server's blob directory, and the
    /// request line for it with a valid read token.
    func largeObject(in server: TestServer) throws -> (object: Data, request: String) {
        let object = try #require(FileHandle(forReadingAtPath: "/dev/urandom")?.readData(ofLength: 24_000_000))
        let key = try #require(BlobKey("tracks/large/original.m4a"))
        let path = server.dataDirectory + "/blobs/" + key.rawValue
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try object.write(to: URL(fileURLWithPath: path))
        let signer = MediaURLSigner(secret: try SigningKeys.load(configured: nil, dataDirectory: server.dataDirectory).mediaURLs)
        let token = signer.token(for: MediaGrant(access: .read, scope: key, expiresAt: Date().addingTimeInterval(600)))
        return (object, "GET /media/\(token)/\(key.rawValue) HTTP/1.1\r\nHost: x\r\n\r\n")
    }

    @Test("a slow client keeps its download past the idle timeout: a connection sending a file is not idle")
    func slowClient() async throws {
        try await withServer({ $0.idleTimeout = .seconds(1) }) { server in
            let (object, request) = try largeObject(in: server)
            let connection = try RawConnection(port: try #require(URL(string: server.baseURL)?.port))
            try connection.send(request)
            // 64 KiB every 10 ms: about 3 s for 24 MB, with the file's one write pending throughout.
            let responses = await connection.receive(responses: 1, pause: .milliseconds(10))
            #expect(responses.first?.status == 200)
            #expect(responses.first?.body == object)
        }
    }

    @Test("a graceful shutdown lets a file being sent over sendfile finish")
    func sendfileFinishes() async throws {
        try await withServer { server in
            let (object, request) = try largeObject(in: server)
            let port = try #require(URL(string: server.baseURL)?.port)
            let connection = try RawConnection(port: port)
            try connection.send(request)
            #expect(await connection.readable(within: .seconds(10)))  // the response has begun
            await server.beginShutdown()
            // Once the server stops accepting (a new connection is refused), its connections have been told to
            // finish up; the send under way must still complete.
            let refused = try await eventually(within: .seconds(10)) {
                do {
                    _ = try RawConnection(port: port)
                    return false
                } catch {
                    return true
                }
            }
            #expect(refused, "the listener still accepts connections 10 s after the shutdown began")
            let responses = await connection.receive(responses: 1)
            #expect(responses.first?.status == 200)
            #expect(responses.first?.body.count == object.count)
            #expect(responses.first?.body == object)
        }
    }
}

@Suite("Connection limits", .timeLimit(.minutes(5)))
struct ConnectionTests {
    @Test("connections beyond the limit wait for a free slot; idle keep-alive connections are closed and free theirs")
    func boundedConnections() async throws {
        try await withServer({
            $0.maxConnections = 2
            $0.idleTimeout = .seconds(1)
        }) { server in
            let port = try #require(URL(string: server.baseURL)?.port)
            // Silent clients connect first and hold the slots until the idle timeout closes them. The limit
            // stops the listener from accepting more, but one accept round may take up to four queued
            // connections at once (NIO's reads per cycle), so six are queued ahead of the request: it
            // cannot be in the first round, whatever the timing.
            let opened = ContinuousClock.now
            let idle = try (0..<6).map { _ in try RawConnection(port: port) }
            let answer = try await HTTP.send("GET", server.baseURL + "/health")
            let answered = ContinuousClock.now
            #expect(answer.status == 200)
            // Served only once a slot was free, which the idle timeout (counted from each idle client's
            // accept, after `opened`) decides; without the limit it would have been answered at once.
            #expect(answered - opened >= .seconds(1))
            for connection in idle {
                #expect(await connection.closedByServer(within: .seconds(10)))
            }
        }
    }
}

/// A TCP connection that sends nothing, to occupy a server slot.
final class RawConnection: Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close(descriptor) }

    struct Response {
        var status: Int
        /// Names lower-cased.
        var headers: [String: String]
        var body: Data
    }

    /// Sends `requests` in one write and reads `count` responses (bodies by `Content-Length`; the
    /// responses at indices in `headRequests` answer HEAD and have none), within 30 s.
    func exchange(_ requests: String, responses count: Int, headRequests: Set<Int> = []) async throws -> [Response] {
        try send(requests)
        return await receive(responses: count, headRequests: headRequests)
    }

    func send(_ requests: String) throws {
        let bytes = Array(requests.utf8)
        guard Glibc.send(descriptor, bytes, bytes.count, 0) == bytes.count else { throw POSIXError(.EPIPE) }
    }

    /// True once the server has sent something, polling until `limit`.
    func readable(within limit: Duration) async -> Bool {
        let descriptor = self.descriptor
        let deadline = ContinuousClock.now + limit
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                while ContinuousClock.now < deadline {
                    if poll(&request, 1, 100) > 0 {
                        continuation.resume(returning: true)
                        return
                    }
                }
                continuation.resume(returning: false)
            }
        }
    }

    /// Reads `count` responses; see ``exchange(_:responses:headRequests:)``. With `pause`, waits that long
    /// after each read of at most 64 KiB, like a slow client.
    func receive(responses count: Int, headRequests: Set<Int> = [], pause: Duration? = nil) async -> [Response] {
        let descriptor = self.descriptor
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var buffer = Data()
                var parsed: [Response] = []
                let deadline = ContinuousClock.now + .seconds(30)
                while parsed.count < count, ContinuousClock.now < deadline {
                    if let (response, used) = Self.parse(buffer, isHead: headRequests.contains(parsed.count)) {
                        parsed.append(response)
                        buffer.removeFirst(used)
                        continue
                    }
                    var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                    guard poll(&request, 1, 100) > 0 else { continue }
                    var chunk = [UInt8](repeating: 0, count: 65536)
                    let read = recv(descriptor, &chunk, chunk.count, 0)
                    guard read > 0 else { break }
                    buffer.append(contentsOf: chunk[..<read])
                    if let pause { usleep(UInt32(pause.components.attoseconds / 1_000_000_000_000)) }
                }
                continuation.resume(returning: parsed)
            }
        }
    }

    /// One whole response at the start of `data`, and how many bytes it took; nil until it is all there.
    static func parse(_ data: Data, isHead: Bool) -> (Response, Int)? {
        guard let end = data.firstRange(of: Data("\r\n\r\n".utf8)) else { return nil }
        let lines = String(decoding: data[data.startIndex..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = isHead ? 0 : Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = end.upperBound
        guard data.distance(from: bodyStart, to: data.endIndex) >= length else { return nil }
        let body = Data(data[bodyStart..<data.index(bodyStart, offsetBy: length)])
        return (Response(status: status, headers: headers, body: body), data.distance(from: data.startIndex, to: bodyStart) + length)
    }

    /// True once the server has closed its end (a read returns end-of-file), polling until `limit`.
    func closedByServer(within limit: Duration) async -> Bool {
        let descriptor = self.descriptor
        let deadline = ContinuousClock.now + limit
        return await withCheckedContinuation { continuation in
            // poll(2) blocks, so it runs on a dispatch thread rather than the cooperative pool.
            DispatchQueue.global().async {
                while ContinuousClock.now < deadline {
                    var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                    guard poll(&request, 1, 100) > 0 else { continue }
                    var byte: UInt8 = 0
                    if recv(descriptor, &byte, 1, 0) <= 0 {
                        continuation.resume(returning: true)
                        return
                    }
                }
                continuation.resume(returning: false)
            }
        }
    }
}
