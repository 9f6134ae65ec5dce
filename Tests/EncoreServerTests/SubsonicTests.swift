import Crypto
import EncoreCore
import EncoreTestSupport
import Foundation
import HTTPTypes
import Synchronization
import Testing

@testable import EncoreServer

/// The Subsonic surface's protocol rules, in process over in-memory services. What real apps do with it
/// (py-sonic, XML and JSON, streaming real pipeline output) is `Tests/python/subsonic_clients.py`.
@Suite("Subsonic API rules", .timeLimit(.minutes(1)))
struct SubsonicTests {
    /// A client with one account and one app password.
    struct Setup {
        let client: RouterClient
        let user: User
        let secret: String

        init(fixture: ServiceFixture = ServiceFixture()) async throws {
            client = await RouterClient(fixture: fixture)
            let (user, principal) = try await fixture.account(.listener)
            self.user = user
            secret = try await fixture.services.appPasswords.create(principal, name: "phone").secret
        }

        var email: String { user.email.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? user.email }

        func token(salt: String = "c19b2d") -> String {
            let hash = Insecure.MD5.hash(data: Data((secret + salt).utf8)).map { String(format: "%02x", $0) }.joined()
            return "u=\(email)&t=\(hash)&s=\(salt)"
        }

        /// The envelope's status and error code, from JSON.
        func call(
            _ method: String, _ query: String, post body: String? = nil
        ) async throws -> (http: Int, status: String?, code: Int?, body: [String: Any]) {
            let reply = try await client.send(
                body == nil ? .get : .post, "/rest/\(method)?\(query)&f=json&v=1.16.1&c=test", body: body,
                contentType: "application/x-www-form-urlencoded")
            let envelope = reply.json["subsonic-response"] as? [String: Any] ?? [:]
            return (reply.status, envelope["status"] as? String, (envelope["error"] as? [String: Any])?["code"] as? Int, envelope)
        }
    }

    @Test("each credential form signs in; wrong ones fail with the spec's codes, over HTTP 200")
    func credentials() async throws {
        let setup = try await Setup()
        let hex = setup.secret.utf8.map { String(format: "%02X", $0) }.joined()
        for query in [setup.token(), "u=\(setup.email)&p=\(setup.secret)", "u=\(setup.email)&p=enc:\(hex)", "apiKey=\(setup.secret)"] {
            let reply = try await setup.call("ping.view", query)
            #expect(reply.http == 200 && reply.status == "ok", "\(query): \(reply.body)")
        }
        let cases: [(String, Int)] = [
            ("", 10),  // no credentials at all
            ("u=\(setup.email)", 10),  // a user without password or token
            ("u=\(setup.email)&t=abc", 10),  // a token without its salt
            ("u=\(setup.email)&p=wrong", 40),
            ("u=nobody%40example.com&p=\(setup.secret)", 40),  // unknown accounts look like wrong passwords
            ("u=\(setup.email)&p=a%20long%20password", 40),  // the login password is not an app password
            ("u=\(setup.email)&t=00000000000000000000000000000000&s=x", 40),
            ("u=\(setup.email)&apiKey=\(setup.secret)", 43),
            ("apiKey=not-a-key", 44),
            ("\(setup.token())&v=2.0.0", 30),
        ]
        for (query, code) in cases {
            let reply = try await setup.call("ping", query)
            #expect(reply.http == 200, "\(query)")
            #expect(reply.status == "failed" && reply.code == code, "\(query) → \(reply.body)")
        }
        // The envelope carries the OpenSubsonic identification.
        let ok = try await setup.call("ping", setup.token())
        #expect(ok.body["version"] as? String == "1.16.1")
        #expect(ok.body["type"] as? String == "encore")
        #expect(ok.body["openSubsonic"] as? Bool == true)
    }

    @Test("a revoked app password stops working at once")
    func revoked() async throws {
        let fixture = ServiceFixture()
        let setup = try await Setup(fixture: fixture)
        #expect(try await setup.call("ping", setup.token()).status == "ok")
        let principal = Principal(userId: setup.user.id, role: setup.user.role)
        for password in try await fixture.services.appPasswords.list(principal) {
            try await fixture.services.appPasswords.revoke(principal, id: password.id)
        }
        #expect(try await setup.call("ping", setup.token()).code == 40)
        #expect(try await setup.call("ping", "apiKey=\(setup.secret)").code == 44)
    }

    @Test("parameters may come from the query, a form body, or both (DSub)")
    func formPosts() async throws {
        let setup = try await Setup()
        let split = try await setup.call("getLicense", "u=\(setup.email)", post: "p=\(setup.secret)")
        #expect(split.status == "ok", "\(split.body)")
        let bodyOnly = try await setup.client.send(
            .post, "/rest/getLicense.view", body: "f=json&\(setup.token())", contentType: "application/x-www-form-urlencoded")
        #expect(bodyOnly.json["subsonic-response"].flatMap { ($0 as? [String: Any])?["status"] as? String } == "ok", "\(bodyOnly.body)")
        // A missing required parameter is 10, an id that is none of Encore's is 70.
        #expect(try await setup.call("getAlbum", setup.token()).code == 10)
        #expect(try await setup.call("getAlbum", setup.token() + "&id=\(UUID().uuidString)").code == 70)
        #expect(try await setup.call("getAlbum", setup.token() + "&id=al-123").code == 70)
        #expect(try await setup.call("getAlbumList2", setup.token() + "&type=byGenre").code == 10)
        // An oversized list is clamped to the most one answer holds, not refused.
        #expect(try await setup.call("getAlbumList2", setup.token() + "&type=newest&size=9999").status == "ok")
        // HEAD reads; it never changes anything.
        let head = try await setup.client.send(.head, "/rest/star.view?\(setup.token())&f=json&id=\(UUID().uuidString)")
        #expect(head.status == 200 && head.body.contains("\"code\":50"), "\(head.body)")
    }

    @Test("XML is the default; JSONP wraps JSON; unknown methods are 404 with a failed envelope")
    func formats() async throws {
        let setup = try await Setup()
        let xml = try await setup.client.send(.get, "/rest/ping.view?\(setup.token())&v=1.16.1&c=test")
        #expect(xml.status == 200)
        #expect(xml.headers[.contentType]?.hasPrefix("text/xml") == true)
        #expect(xml.body.hasPrefix(#"<?xml version="1.0" encoding="UTF-8"?><subsonic-response xmlns="http://subsonic.org/restapi" status="ok""#))
        let jsonp = try await setup.client.send(.get, "/rest/ping?\(setup.token())&f=jsonp&callback=cb")
        #expect(jsonp.body.hasPrefix(#"cb({"subsonic-response":{"status":"ok""#) && jsonp.body.hasSuffix(");"))
        let hostile = try await setup.call("ping", setup.token().replacingOccurrences(of: "f=json", with: "") + "&f=jsonp&callback=alert(1)")
        #expect(hostile.http == 200)
        let unknown = try await setup.client.send(.get, "/rest/noSuchMethod.view?\(setup.token())&f=json")
        #expect(unknown.status == 404)
        #expect(unknown.body.contains(#""status":"failed""#))
        // The extensions list needs no credentials.
        let extensions = try await setup.call("getOpenSubsonicExtensions", "")
        let names = (extensions.body["openSubsonicExtensions"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["apiKeyAuthentication", "formPost", "songLyrics"])
    }

    @Test("failed sign-ins count toward one limit, whichever way they come in")
    func throttle() async throws {
        let fixture = ServiceFixture()
        let setup = try await Setup(fixture: fixture)
        for _ in 0..<fixture.services.loginThrottle.maxFailures {
            #expect(try await setup.call("ping", "u=\(setup.email)&p=wrong").code == 40)
        }
        // Locked: even the right app password is refused for now, and so is the REST login.
        let locked = try await setup.call("ping", setup.token())
        #expect(locked.status == "failed" && locked.code == 0)
        #expect(((locked.body["error"] as? [String: Any])?["message"] as? String)?.hasPrefix("Too many failed sign-ins") == true)
        let login = try await setup.client.send(
            .post, "/api/v1/auth/login", body: #"{"email":"\#(setup.user.email)","password":"a long password"}"#)
        #expect(login.status == 429)
        #expect(login.errorCode == "too_many_attempts")
        #expect(Int(login.headers[.retryAfter] ?? "") ?? 0 > 0)
        // Another account is not affected.
        let other = try await Setup(fixture: fixture)
        #expect(try await other.call("ping", other.token()).status == "ok")
    }

    @Test("the sign-in limit: per account and client, whatever the spelling of the email; lifts with the window; a success forgives")
    func throttleWindow() throws {
        let clock = TestClock()
        let throttle = LoginThrottle(maxFailures: 3, window: .seconds(60), now: { clock.now })
        try throttle.attempt("A@example.com", client: "10.0.0.1")
        throttle.succeeded("a@example.com", client: "10.0.0.1")  // forgives that attempt
        // Case and surrounding spaces are the same account (they are to sign-in too).
        for spelling in ["a@example.com", " a@example.com", "A@EXAMPLE.COM\n"] { try throttle.attempt(spelling, client: "10.0.0.1") }
        #expect(throws: EncoreError.self) { try throttle.attempt("a@example.com", client: "10.0.0.1") }
        // Another client of the same account is not locked out by this one.
        try throttle.attempt("a@example.com", client: "10.0.0.2")
        clock.advance(30)
        do {
            try throttle.attempt("a@example.com", client: "10.0.0.1")
            Issue.record("still locked after 30 s of 60")
        } catch let error as EncoreError {
            #expect(error.code == .tooManyAttempts)
            #expect(error.retryAfter == 30)
        }
        clock.advance(31)
        try throttle.attempt("a@example.com", client: "10.0.0.1")
    }

    @Test("the sign-in limit's memory is bounded: expired entries go first, then the oldest")
    func throttleMemory() throws {
        let clock = TestClock()
        let throttle = LoginThrottle(maxFailures: 2, window: .seconds(60), capacity: 100, now: { clock.now })
        try throttle.attempt("victim@example.com", client: "x")
        try throttle.attempt("victim@example.com", client: "x")
        for index in 0..<50 { try throttle.attempt("spray\(index)@example.com", client: "x") }
        #expect(throws: EncoreError.self) { try throttle.attempt("victim@example.com", client: "x") }  // still locked
        clock.advance(61)
        for index in 0..<200 { try throttle.attempt("spray-\(index)@example.com", client: "x") }
        #expect(throttle.keys <= 100)
    }

    @Test("stream picks the stored file by format and maxBitRate")
    func renditionChoice() throws {
        let track = DataStoreContract.track(album: DataStoreContract.album(artist: UUID()))
        let prefix = TrackKeys.mediaPrefix(forSource: track.sourceKey!)!
        func file(_ codec: String, _ format: String, _ kbps: Int) -> MediaFile {
            MediaFile(format: format, codec: codec, bitrateKbps: kbps, key: prefix.appending("\(codec)-\(kbps).\(format)")!, sizeBytes: 1)
        }
        var media = DataStoreContract.media(for: track)
        media.progressive =
            [96, 160, 256].map { file("aac", "m4a", $0) } + [96, 160, 320].map { file("mp3", "mp3", $0) }
            + [96, 160, 320].map { file("opus", "ogg", $0) }
        func pick(_ format: String?, _ limit: Int, original: Int = 900) throws -> String {
            let chosen = try SubsonicMedia.pick(media, originalKbps: original, format: format, maxBitRate: limit)
            return chosen.key == media.original.key ? "original" : "\(chosen.codec)-\(chosen.bitrateKbps ?? 0)"
        }
        #expect(try pick(nil, 0) == "original")
        #expect(try pick("raw", 128) == "original")
        #expect(try pick(nil, 1000) == "original")  // the original is within the limit
        #expect(try pick(nil, 320) == "mp3-320")
        #expect(try pick("mp3", 0) == "mp3-320")
        #expect(try pick("mp3", 160) == "mp3-160")
        #expect(try pick("mp3", 100) == "mp3-96")
        #expect(try pick("mp3", 32) == "mp3-96")  // below every rung: the lowest
        #expect(try pick("opus", 200) == "opus-160")
        #expect(try pick("ogg", 0) == "opus-320")
        #expect(try pick("aac", 256) == "aac-256")
        #expect(try pick("m4a", 128) == "aac-96")
        #expect(try pick("flac", 0) == "original")  // the original's own format
        #expect(try pick("flac", 500) == "mp3-320")
        #expect(throws: EncoreError.self) { try pick("wma", 0) }
    }

    @Test("every error code maps to one of the protocol's codes")
    func errorCodes() {
        let allowed: Set = [0, 10, 20, 30, 40, 42, 43, 44, 50, 70]
        for code in ErrorCode.allCases {
            #expect(allowed.contains(SubsonicErrors.code(for: EncoreError(code, ""))), "\(code)")
        }
        #expect(SubsonicErrors.code(for: EncoreError(.missingParameter, "")) == 10)
        #expect(SubsonicErrors.code(for: EncoreError(.invalidCredentials, "")) == 40)
        #expect(SubsonicErrors.code(for: EncoreError(.forbidden, "")) == 50)
        #expect(SubsonicErrors.code(for: EncoreError.notFound(.trackNotFound)) == 70)
        #expect(SubsonicErrors.code(for: EncoreError(.storageUnavailable, "")) == 0)
    }

    @Test("XML and JSON are written from one tree: attributes, children, lists, text, escaping")
    func documents() {
        var album = SubsonicObject(["id": "a<1>", "name": "Ágætis \"byrjun\" & more", "year": 1999, "starred": nil, "isDir": false])
        album["song"] = .list([SubsonicObject(["id": "s1"]), SubsonicObject(["id": "s2"])])
        var genre = SubsonicObject(text: "Post-Rock")
        genre["songCount"] = 2
        var root = SubsonicObject(["status": "ok"])
        root["album"] = .object(album)
        root["genre"] = .list([genre])
        root["versions"] = .numbers([1, 2])
        #expect(
            SubsonicWriter.xml(root)
                == #"<?xml version="1.0" encoding="UTF-8"?><subsonic-response xmlns="http://subsonic.org/restapi" status="ok">"#
                + #"<album id="a&lt;1&gt;" name="Ágætis &quot;byrjun&quot; &amp; more" year="1999" isDir="false"><song id="s1"/><song id="s2"/></album>"#
                + #"<genre songCount="2">Post-Rock</genre><versions>1</versions><versions>2</versions></subsonic-response>"#)
        #expect(
            SubsonicWriter.json(root)
                == #"{"subsonic-response":{"status":"ok","album":{"id":"a<1>","name":"Ágætis \"byrjun\" & more","year":1999,"isDir":false,"#
                + #""song":[{"id":"s1"},{"id":"s2"}]},"genre":[{"value":"Post-Rock","songCount":2}],"versions":[1,2]}}"#)
        // Control characters XML cannot carry are replaced; JSON escapes them.
        #expect(SubsonicWriter.escapeXML("a\u{1}b") == "a\u{FFFD}b")
        #expect(SubsonicWriter.quoteJSON("a\u{1}b") == #""a\u0001b""#)
    }

    @Test("artists are filed without a leading article, accents and case folded")
    func indexNames() {
        #expect(SubsonicEntries.indexName("The Beatles") == "beatles")
        #expect(SubsonicEntries.indexName("Los Lobos") == "lobos")
        #expect(SubsonicEntries.indexName("Ólafur Arnalds") == "olafur arnalds")
        #expect(SubsonicEntries.indexName("The") == "the")  // a name that is only an article keeps it
        #expect(SubsonicEntries.indexName("Theatre of Tragedy") == "theatre of tragedy")
    }

    @Test("a scrobble sent again names the same play")
    func scrobbleIds() {
        let (user, track) = (UUID(), UUID())
        #expect(
            SubsonicEndpoints.playId(user: user, track: track, time: 1_700_000_000_000)
                == SubsonicEndpoints.playId(user: user, track: track, time: 1_700_000_000_000))
        #expect(SubsonicEndpoints.playId(user: user, track: track, time: 1) != SubsonicEndpoints.playId(user: user, track: track, time: 2))
    }
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { time.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { time.withLock { $0 += seconds } }
}
