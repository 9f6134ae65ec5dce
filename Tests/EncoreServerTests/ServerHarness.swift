import EncoreApp
import EncoreServer
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real Encore server on a free port with its own data directory, and a small HTTP client for it.
/// Everything is torn down when the test body returns.
struct TestServer: Sendable {
    let baseURL: String
    let dataDirectory: String
    /// Starts a graceful shutdown, as SIGTERM would, without waiting for it.
    let beginShutdown: @Sendable () async -> Void

    var api: String { baseURL + "/api/v1" }
}

/// Starts a server, runs `body` against it, then shuts it down and removes its data.
func withServer(
    _ configure: @Sendable (inout EncoreConfiguration) -> Void = { _ in }, _ body: @Sendable (TestServer) async throws -> Void
) async throws {
    try await withServerReturning(configure, body)
}

/// Starts a server, runs `body` against it and returns its result, then shuts it down and removes its data.
func withServerReturning<Result: Sendable>(
    _ configure: @Sendable (inout EncoreConfiguration) -> Void = { _ in }, _ body: @Sendable (TestServer) async throws -> Result
) async throws -> Result {
    let directory = try temporaryDirectory("encore-server")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var configuration = EncoreConfiguration()
    configuration.port = 0
    configuration.dataDirectory = directory + "/data"
    configuration.bcryptCost = 4  // the minimum: tests check behaviour, not hashing cost
    configuration.logLevel = .warning
    configure(&configuration)
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let app = try await buildApplication(configuration) { port in continuation.yield(port) }
    let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "encore-test")))
    let running = Task { try await group.run() }
    // Stops the server the way SIGTERM would, and waits until it has.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await running.result
    }
    guard let port = await first(of: ports, within: .seconds(30)) else {
        await stop()
        throw ConfigurationError("server did not start listening within 30 s")
    }
    do {
        let server = TestServer(
            baseURL: "http://127.0.0.1:\(port)", dataDirectory: configuration.dataDirectory, beginShutdown: { await group.triggerGracefulShutdown() })
        let result = try await body(server)
        await stop()
        return result
    } catch {
        await stop()
        throw error
    }
}

/// The first element of `stream`, or nil when none arrives before the deadline.
func first(of stream: AsyncStream<Int>, within limit: Duration) async -> Int? {
    await withTaskGroup(of: Int?.self) { group in
        group.addTask { await stream.first { _ in true } }
        group.addTask {
            try? await Task.sleep(for: limit)
            return nil
        }
        let result = await group.next() ?? nil
        group.cancelAll()
        return result
    }
}

func temporaryDirectory(_ prefix: String) throws -> String {
    let path = NSTemporaryDirectory() + "/\(prefix)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// One HTTP exchange's outcome.
struct HTTPResult: Sendable {
    var status: Int
    /// Header names lower-cased.
    var headers: [String: String]
    var body: Data

    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
    }

    /// `error.code` of a JSON error body.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }

    func string(_ key: String) -> String? { json[key] as? String }
}

enum HTTP {
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.timeoutIntervalForRequest = 120
        return URLSession(configuration: configuration)
    }()

    /// Sends a request. `json` is serialised as the body; `body` is sent raw.
    static func send(
        _ method: String, _ url: String, json: [String: any Sendable]? = nil, body: Data? = nil, token: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> HTTPResult {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return HTTPResult(status: http.statusCode, headers: fields, body: data)
    }
}

/// Audio made by the real ffmpeg, for tests that need real files.
enum AudioFixtures {
    /// A stereo 44.1 kHz sine over pink noise of `seconds`, encoded as `format` (flac, wav, mp3, ogg …).
    /// The noise is seeded at random, so two fixtures are two different recordings (as fingerprints see them).
    static func make(seconds: Double = 3, format: String = "flac", frequency: Int = 440, seed: Int = Int.random(in: 1...1_000_000)) throws -> Data {
        let directory = try temporaryDirectory("encore-audio")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = directory + "/tone.\(format)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=\(frequency):duration=\(seconds)", "-f", "lavfi",
            "-i", "anoisesrc=color=pink:amplitude=0.4:duration=\(seconds):seed=\(seed)", "-filter_complex", "amix=inputs=2:normalize=0", "-ac", "2",
            "-ar", "44100", output,
        ]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let data = FileManager.default.contents(atPath: output) else {
            throw ConfigurationError("ffmpeg could not make a \(format) fixture")
        }
        return data
    }
}

/// API steps most tests share.
struct Client: Sendable {
    let server: TestServer

    /// Registers a new account and returns its token and id.
    func register(role: String = "artist", email: String? = nil, password: String = "correct horse") async throws -> (token: String, id: String) {
        let address = email ?? "\(role)-\(UUID().uuidString.prefix(8))@example.com"
        let result = try await HTTP.send(
            "POST", server.api + "/auth/register", json: ["email": address, "password": password, "displayName": "Test \(role)", "role": role])
        try #require(result.status == 201, "register failed: \(String(decoding: result.body, as: UTF8.self))")
        let user = try #require(result.json["user"] as? [String: Any])
        return (try #require(result.string("token")), try #require(user["id"] as? String))
    }

    /// An artist profile and an album, owned by `token`'s user.
    func artistAndAlbum(_ token: String) async throws -> (artist: String, album: String) {
        let artist = try await HTTP.send("POST", server.api + "/artists", json: ["name": "Sigur Rós", "country": "IS"], token: token)
        try #require(artist.status == 201)
        let artistId = try #require(artist.string("id"))
        let album = try await HTTP.send("POST", server.api + "/albums", json: ["artistId": artistId, "title": "Ágætis byrjun"], token: token)
        try #require(album.status == 201)
        return (artistId, try #require(album.string("id")))
    }

    /// Gets an upload URL and PUTs `audio` to it; returns the trackUrl reference.
    func upload(_ audio: Data, token: String) async throws -> String {
        let grant = try await HTTP.send("GET", server.api + "/tracks/upload-url", token: token)
        try #require(grant.status == 200)
        let put = try await HTTP.send("PUT", try #require(grant.string("uploadUrl")), body: audio)
        try #require(put.status == 201, "upload failed: \(String(decoding: put.body, as: UTF8.self))")
        return try #require(grant.string("trackUrl"))
    }

    /// Polls a track until it leaves `processing` (and any replacement is done); returns it.
    func settled(_ id: String, token: String, within limit: Duration = .seconds(120)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + limit
        while true {
            let track = try await HTTP.send("GET", server.api + "/tracks/\(id)", token: token)
            try #require(track.status == 200, "GET /tracks/\(id): \(track.status)")
            if track.string("status") != "processing", track.json["replacement"] == nil { return track.json }
            try #require(ContinuousClock.now < deadline, "track \(id) still processing after \(limit)")
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Uploads `audio`, creates a track and waits for the pipeline; returns the settled track.
    func readyTrack(_ audio: Data, album: String, token: String, title: String = "Svefn-g-englar") async throws -> [String: Any] {
        let created = try await createTrack(audio, album: album, token: token, title: title)
        try #require(created.status == 201, "POST /tracks: \(String(decoding: created.body, as: UTF8.self))")
        return try await settled(try #require(created.string("id")), token: token)
    }

    /// Uploads `audio` and creates a track from it in `album`.
    func createTrack(_ audio: Data, album: String, token: String, title: String = "Svefn-g-englar") async throws -> HTTPResult {
        let trackUrl = try await upload(audio, token: token)
        return try await HTTP.send("POST", server.api + "/tracks", json: ["albumId": album, "title": title, "trackUrl": trackUrl], token: token)
    }
}
