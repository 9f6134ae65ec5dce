import EncoreCore
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
