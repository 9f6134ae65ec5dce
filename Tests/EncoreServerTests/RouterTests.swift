import Crypto
import EncoreApp
import EncoreCore
import EncoreTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import EncoreServer

/// The HTTP surface's rules, in process: the real router over the services on in-memory fakes, with
/// requests handed straight to its responder (no sockets, no files, no ffmpeg).
struct RouterClient {
    struct Reply {
        var status: Int
        var headers: HTTPFields
        var body: String

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    }

    let fixture: ServiceFixture
    let responder: RouterResponder<EncoreRequestContext>

    init(fixture: ServiceFixture = ServiceFixture()) async {
        self.fixture = fixture
        let key = SymmetricKey(size: .bits256)
        let dependencies = ServerDependencies(
            services: fixture.services, accessTokenKey: key, mediaFiles: nil, readiness: {},
            publicBaseURL: PublicBaseURL(configured: "http://encore.test"))
        let tokens = await AccessTokens(key: key, lifetime: .seconds(600))
        responder = buildRouter(dependencies, tokens: tokens, origin: nil).buildResponder()
    }

    func send(
        _ method: HTTPRequest.Method, _ path: String, body: String? = nil, contentType: String? = "application/json", token: String? = nil,
        headers extra: HTTPFields = [:]
    )
        async throws -> Reply
    {
        var headers = extra
        if body != nil, let contentType { headers[.contentType] = contentType }
        if let token { headers[.authorization] = "Bearer \(token)" }
        let request = Request(
            head: HTTPRequest(method: method, scheme: "http", authority: "encore.test", path: path, headerFields: headers),
            body: RequestBody(buffer: ByteBuffer(string: body ?? "")))
        let context = EncoreRequestContext(source: ApplicationRequestContextSource(channel: EmbeddedChannel(), logger: Logger(label: "router-test")))
        let response = try await responder.respond(to: request, context: context)
        let writer = CollectingWriter()
        try await response.body.write(writer)
        return Reply(status: Int(response.status.code), headers: response.headers, body: writer.collected)
    }

    /// Registers an account over the API; returns its token and id.
    func register(_ role: String = "artist") async throws -> (token: String, id: String) {
        let reply = try await send(
            .post, "/api/v1/auth/register",
            body:
                #"{"email":"\#(role)-\#(UUID().uuidString.prefix(8))@example.com","password":"a long password","displayName":"X","role":"\#(role)"}"#)
        try #require(reply.status == 201, "\(reply.body)")
        let user = try #require(reply.json["user"] as? [String: Any])
        return (try #require(reply.json["token"] as? String), try #require(user["id"] as? String))
    }
}

/// Collects a response body.
final class CollectingWriter: ResponseBodyWriter, Sendable {
    private let buffer = NIOLockedBuffer()

    var collected: String { buffer.string }

    func write(_ buffer: ByteBuffer) async throws { self.buffer.append(buffer) }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// A byte buffer behind a lock, for the writer above.
final class NIOLockedBuffer: Sendable {
    private let storage = Mutex(ByteBuffer())
    func append(_ bytes: ByteBuffer) { storage.withLock { $0.writeImmutableBuffer(bytes) } }
    var string: String { storage.withLock { String(buffer: $0) } }
}

@Suite("HTTP rules at the router, over in-memory services", .timeLimit(.minutes(1)))
struct RouterTests {
    @Test("every error kind has its status, and bodies carry the catalogue's code")
    func statuses() async throws {
        let expected: [EncoreError.Kind: Int] = [
            .invalidInput: 400, .unsupportedFormat: 415, .unprocessable: 422, .unauthenticated: 401, .forbidden: 403, .notFound: 404,
            .conflict: 409, .tooLarge: 413, .rateLimited: 429, .unavailable: 503, .internalFailure: 500,
        ]
        for kind in EncoreError.Kind.allCases { #expect(Int(kind.status.code) == expected[kind], "\(kind)") }
        let client = await RouterClient()
        let missing = try await client.send(.get, "/api/v1/nothing-here")
        #expect(missing.status == 404)
        #expect(missing.errorCode == "not_found")
        // Every answer, an error too, names its request, as the log lines do.
        let first = try #require(missing.headers[HTTPField.Name("X-Request-Id")!])
        let second = try #require(try await client.send(.get, "/health").headers[HTTPField.Name("X-Request-Id")!])
        #expect(!first.isEmpty && first != second)
        let anonymous = try await client.send(.get, "/api/v1/users/me")
        #expect(anonymous.status == 401)
        #expect(anonymous.errorCode == "unauthenticated")
        #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
        #expect(anonymous.headers[.cacheControl] == "no-store")
    }

    @Test("ids go out lower-case and come in in any case")
    func ids() async throws {
        let client = await RouterClient()
        let (token, userId) = try await client.register()
        #expect(userId == userId.lowercased())
        let artist = try await client.send(.post, "/api/v1/artists", body: #"{"name":"Björk"}"#, token: token)
        let id = try #require(artist.json["id"] as? String)
        #expect(id == id.lowercased())
        #expect(artist.json["ownerId"] as? String == userId)
        #expect(try await client.send(.get, "/api/v1/artists/\(id.uppercased())", token: token).json["name"] as? String == "Björk")
    }

    @Test("bodies: JSON only, PATCH fields left out or set but never null, messages without Swift types")
    func bodies() async throws {
        let client = await RouterClient()
        let (token, _) = try await client.register()
        let artist = try await client.send(.post, "/api/v1/artists", body: #"{"name":"A","country":"SE"}"#, token: token)
        let id = try #require(artist.json["id"] as? String)
        let form = try await client.send(.post, "/api/v1/artists", body: "name=A", contentType: "application/x-www-form-urlencoded", token: token)
        #expect(form.status == 415)
        #expect(form.errorCode == "unsupported_media_type")
        let vendor = try await client.send(
            .post, "/api/v1/artists", body: #"{"name":"B"}"#, contentType: "application/vnd.encore+json; charset=utf-8", token: token)
        #expect(vendor.status == 201)
        let null = try await client.send(.patch, "/api/v1/artists/\(id)", body: #"{"name":null}"#, token: token)
        #expect(null.status == 400)
        #expect(null.errorCode == "invalid_body")
        #expect((null.json["error"] as? [String: Any])?["message"] as? String == "Field 'name' must be a string, not null.")
        let cleared = try await client.send(.patch, "/api/v1/artists/\(id)", body: #"{"country":""}"#, token: token)
        #expect(cleared.status == 200)
        #expect(cleared.json["country"] == nil || cleared.json["country"] is NSNull)
        let array = try await client.send(.post, "/api/v1/playlists", body: "[]", token: token)
        #expect((array.json["error"] as? [String: Any])?["message"] as? String == "The body must be a JSON object.")
        let role = try await client.send(
            .post, "/api/v1/auth/register", body: #"{"email":"r@example.com","password":"a long password","displayName":"R","role":"root"}"#)
        #expect((role.json["error"] as? [String: Any])?["message"] as? String == "Field 'role' must be one of listener, artist.")
    }

    @Test("query strings: + is a space, %2B a plus, bad escapes and huge numbers are refused with their codes")
    func queries() async throws {
        let client = await RouterClient()
        let (token, _) = try await client.register()
        let search = try await client.send(.get, "/api/v1/search?q=bohemian+rhapsody&types=track%2Calbum", token: token)
        #expect(search.status == 200)
        #expect(search.json["query"] as? String == "bohemian rhapsody")
        #expect(try await client.send(.get, "/api/v1/search?q=ac%2Bdc", token: token).json["query"] as? String == "ac+dc")
        #expect(try await client.send(.get, "/api/v1/search?q=%zz", token: token).errorCode == "invalid_query")
        let offset = try await client.send(.get, "/api/v1/playlists?offset=3326855375", token: token)
        #expect(offset.errorCode == "invalid_offset")
        #expect((offset.json["error"] as? [String: Any])?["message"] as? String == "offset must be between 0 and 1000000000.")
        #expect(try await client.send(.get, "/api/v1/playlists?limit=+5", token: token).errorCode == "invalid_limit")
    }

    @Test("ownership is checked on every write, and a listener cannot publish")
    func ownership() async throws {
        let client = await RouterClient()
        let (owner, _) = try await client.register()
        let (other, _) = try await client.register()
        let (listener, _) = try await client.register("listener")
        let artist = try await client.send(.post, "/api/v1/artists", body: #"{"name":"Mine"}"#, token: owner)
        let id = try #require(artist.json["id"] as? String)
        for (method, path, body) in [
            (HTTPRequest.Method.patch, "/api/v1/artists/\(id)", #"{"name":"Theirs"}"#), (.delete, "/api/v1/artists/\(id)", nil),
            (.post, "/api/v1/albums", #"{"artistId":"\#(id)","title":"T"}"#),
        ] {
            let reply = try await client.send(method, path, body: body, token: other)
            #expect(reply.status == 403, "\(method) \(path)")
            #expect(reply.errorCode == "forbidden", "\(method) \(path)")
        }
        #expect(try await client.send(.post, "/api/v1/artists", body: #"{"name":"L"}"#, token: listener).errorCode == "artist_role_required")
        #expect(try await client.send(.get, "/api/v1/tracks/upload-url", token: listener).errorCode == "artist_role_required")
        #expect(try await client.send(.get, "/api/v1/artists/\(id)", token: other).json["name"] as? String == "Mine")
    }

    @Test("plays: 201 when recorded, 200 when reported again, in the history newest first")
    func plays() async throws {
        let client = await RouterClient()
        let (token, _) = try await client.register()
        let artist = try #require(try await client.send(.post, "/api/v1/artists", body: #"{"name":"A"}"#, token: token).json["id"] as? String)
        let album = try #require(
            try await client.send(.post, "/api/v1/albums", body: #"{"artistId":"\#(artist)","title":"B"}"#, token: token).json["id"] as? String)
        let grant = try await client.send(.get, "/api/v1/tracks/upload-url", token: token)
        let trackUrl = try #require(grant.json["trackUrl"] as? String)
        let principal = Principal(userId: try #require(UUID(uuidString: String(trackUrl.split(separator: "/")[1]))), role: .artist)
        _ = try client.fixture.blobs.store(Data([1, 2, 3]), at: try UploadReference(parsing: trackUrl, for: principal).key)
        let track = try await client.send(
            .post, "/api/v1/tracks", body: #"{"albumId":"\#(album)","title":"T","trackUrl":"\#(trackUrl)"}"#, token: token)
        let trackId = try #require(track.json["id"] as? String)
        #expect(track.json["status"] as? String == "processing")
        let playId = UUID().uuidString
        let body = #"{"playId":"\#(playId)","trackId":"\#(trackId)","msPlayed":45000,"playedAt":"2026-11-30T20:00:00Z"}"#
        #expect(try await client.send(.post, "/api/v1/plays", body: body, token: token).status == 201)
        let again = try await client.send(.post, "/api/v1/plays", body: body, token: token)
        #expect(again.status == 200)
        #expect(again.json["counted"] as? Bool == true)
        let history = try await client.send(.get, "/api/v1/users/me/history", token: token)
        #expect((history.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [playId.lowercased()])
        #expect(try await client.send(.get, "/api/v1/tracks/\(trackId)/stream", token: token).errorCode == "track_not_ready")
    }

    @Test("app passwords: the secret once and never cached, listed without it, revoked by id, others' invisible")
    func appPasswords() async throws {
        let client = await RouterClient()
        let (token, _) = try await client.register("listener")
        let (other, _) = try await client.register("listener")
        let created = try await client.send(.post, "/api/v1/users/me/app-passwords", body: #"{"name":"DSub"}"#, token: token)
        #expect(created.status == 201)
        #expect(created.headers[.cacheControl] == "no-store")
        let secret = try #require(created.json["secret"] as? String)
        #expect(secret.count == 32)
        let id = try #require(created.json["id"] as? String)
        #expect(created.json["lastUsedAt"] is NSNull)
        let listed = try await client.send(.get, "/api/v1/users/me/app-passwords", token: token)
        let items = try #require(listed.json["items"] as? [[String: Any]])
        #expect(items.map { $0["id"] as? String } == [id])
        #expect(items.allSatisfy { $0["secret"] == nil })
        #expect(!listed.body.contains(secret))
        #expect(try await client.send(.get, "/api/v1/users/me/app-passwords", token: other).json["items"] as? [Any] != nil)
        #expect(try await client.send(.delete, "/api/v1/users/me/app-passwords/\(id)", token: other).errorCode == "app_password_not_found")
        #expect(try await client.send(.delete, "/api/v1/users/me/app-passwords/\(id)", token: token).status == 200)
        #expect(try await client.send(.delete, "/api/v1/users/me/app-passwords/\(id)", token: token).errorCode == "app_password_not_found")
    }

    @Test("the AES-GCM sealer keeps the sealer contract")
    func aesSealer() throws {
        try SecretSealerContract.check { AESGCMSecretSealer(sealing: SymmetricKey(size: .bits256), lookup: SymmetricKey(size: .bits256)) }
    }
}
