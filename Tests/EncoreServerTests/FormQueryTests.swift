import EncoreCore
import Foundation
import Logging
import Testing

@testable import EncoreServer

@Suite("Query strings as clients encode them", .timeLimit(.minutes(1)))
struct FormQueryTests {
    @Test("+ is a space, %2B a plus, escapes decode, the first of repeated names wins")
    func decoding() throws {
        let query = try FormQuery("q=bohemian+rhapsody&plus=a%2Bb&utf8=Bj%C3%B6rk&empty=&flag&q=second")
        #expect(query.get("q") == "bohemian rhapsody")
        #expect(query.get("plus") == "a+b")
        #expect(query.get("utf8") == "Björk")
        #expect(query.get("empty") == "")
        #expect(query.get("flag") == "")
        #expect(query.get("missing") == nil)
    }

    @Test("malformed escapes and numbers are refused with their codes")
    func refusals() throws {
        for raw in ["q=%zz", "q=%C3", "q=100%"] {
            #expect(throws: EncoreError(.invalidQuery, "The query string has a malformed percent-escape or is not UTF-8.")) { try FormQuery(raw) }
        }
        #expect(throws: EncoreError.self) { try FormQuery("limit=99999999999999999999").integer("limit", code: .invalidLimit) }
        #expect(throws: EncoreError.self) { try FormQuery("limit=+5").integer("limit", code: .invalidLimit) }  // "+5" reads " 5"
    }
}

@Suite("The client's address behind proxies")
struct ClientAddressTests {
    @Test("X-Forwarded-For is believed only from trusted proxies, and only up to the first hop not trusted")
    func resolve() {
        let trusted: Set = ["10.0.0.2", "10.0.0.3"]
        #expect(ClientAddress.resolve(peer: "203.0.113.9", forwardedFor: "1.2.3.4", trusted: trusted) == "203.0.113.9")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: "198.51.100.7", trusted: trusted) == "198.51.100.7")
        // A client cannot pick its address: what it sent comes before the hops our proxies added.
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: "6.6.6.6, 198.51.100.7, 10.0.0.3", trusted: trusted) == "198.51.100.7")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: nil, trusted: trusted) == "10.0.0.2")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: " , ", trusted: trusted) == "10.0.0.2")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: "10.0.0.3", trusted: trusted) == "10.0.0.3")
        #expect(ClientAddress.resolve(peer: nil, forwardedFor: "1.2.3.4", trusted: trusted) == nil)
    }
}

@Suite("The request log")
struct RequestLogTests {
    @Test("media tokens never reach the log; other paths are logged as they are")
    func redaction() {
        #expect(RequestLog.redacted("/media/djF8Ug.sig/tracks/t/media-m/hls/master.m3u8") == "/media/…/tracks/t/media-m/hls/master.m3u8")
        #expect(RequestLog.redacted("/media/onlytoken") == "/media/…")
        #expect(RequestLog.redacted("/media/t/ü/é") == "/media/…/ü/é")
        #expect(RequestLog.redacted("/api/v1/tracks/x") == "/api/v1/tracks/x")
        #expect(RequestLog.redacted("/mediax/a/b") == "/mediax/a/b")
        #expect(RequestLog.redacted("") == "")
    }
}

@Suite("The access log")
struct AccessLogTests {
    /// Reads what is in the pipe now, without waiting.
    static func available(_ descriptor: CInt) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Runs `body` with a pipe: the write end for the log, a non-blocking read end for ``available(_:)``.
    static func withPipe(_ body: (_ read: CInt, _ write: CInt) throws -> Void) throws {
        var ends: [CInt] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer {
            close(ends[0])
            close(ends[1])
        }
        try #require(fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK) == 0)
        try body(ends[0], ends[1])
    }

    @Test("lines wait in memory until a batch is full or flushed, then read as documented")
    func batches() throws {
        try Self.withPipe { reader, writer in try batches(reader: reader, writer: writer) }
    }

    func batches(reader: CInt, writer: CInt) throws {
        let log = AccessLog(level: .info, fileDescriptor: writer)
        log.record(method: "GET", path: "/api/v1/tracks/x", status: 200, elapsedNanoseconds: 1_234_567, requestID: "abc")
        log.record(
            method: "HEAD", path: RequestLog.redacted("/media/secret.sig/a/b.m4s"), status: 200, elapsedNanoseconds: nil, requestID: nil,
            note: "sendfile")
        #expect(Self.available(reader).isEmpty)
        log.flush()
        let lines = Self.available(reader).split(separator: "\n").map(String.init)
        try #require(lines.count == 2)
        #expect(lines[0].wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ info access GET \/api\/v1\/tracks\/x 200 1\.234ms id=abc/) != nil)
        #expect(lines[1].hasSuffix(" info access HEAD /media/…/a/b.m4s 200 sendfile"))
        #expect(!lines.joined().contains("secret"))
        // A full batch goes out by itself.
        for _ in 0..<1000 { log.record(method: "GET", path: "/x", status: 404, elapsedNanoseconds: 7_000, requestID: "r") }
        let written = Self.available(reader)
        #expect(written.count >= 32 * 1024)
        #expect(written.split(separator: "\n").allSatisfy { $0.hasSuffix(" info access GET /x 404 0.007ms id=r") })
    }

    @Test("below info nothing is written")
    func disabled() throws {
        try Self.withPipe { reader, writer in
            let log = AccessLog(level: .warning, fileDescriptor: writer)
            #expect(!log.isEnabled)
            log.record(method: "GET", path: "/x", status: 200, elapsedNanoseconds: 1, requestID: nil)
            log.flush()
            #expect(Self.available(reader).isEmpty)
        }
    }
}
