import EncoreApp
import EncoreServer
import Foundation
import Testing

/// On each backend: SQLite, and PostgreSQL (whose import is COPY) in a schema of the test's own on the
/// server `scripts/with-postgres` started.
@Suite("encore catalog import", .timeLimit(.minutes(5)))
struct CatalogImportTests {
    enum Backend: String, CaseIterable, Sendable {
        case sqlite, postgres

        /// `ENCORE_DATABASE_URL` for a fresh database; nil for the default SQLite file.
        func databaseURL() throws -> String? {
            guard self == .postgres else { return nil }
            let server = try #require(
                ProcessInfo.processInfo.environment["ENCORE_TEST_POSTGRES_URL"], "run the tests through scripts/with-postgres (scripts/test does)")
            return server + "?schema=t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        }
    }

    @Test(
        "imports JSON Lines: dedupes artists and albums, reports bad lines by number, sends audio through the pipeline",
        arguments: Backend.allCases)
    func importFile(backend: Backend) async throws {
        let databaseURL = try backend.databaseURL()
        let directory = try temporaryDirectory("encore-import")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        let audio = directory + "/tone.wav"
        try AudioFixtures.make(seconds: 1, format: "wav").write(to: URL(fileURLWithPath: audio))
        let lines = [
            #"{"artist": "Sigur Rós", "album": "Takk...", "title": "Glósóli", "trackNumber": 2, "year": 2005, "genre": "post-rock", "plays": 900}"#,
            #"{"artist": "SIGUR ROS", "album": "takk...", "title": "Hoppípolla", "plays": 5000}"#,
            #"{"artist": "Sigur Rós", "album": "( )", "title": "Untitled #1"}"#,
            "",
            #"{"artist": "Ghost Artist", "album": "Nowhere", "title": 42}"#,
            #"{"artist": "Ghost Artist", "album": "Nowhere"}"#,
            #"not json at all"#,
            #"{"artist": "Sigur Rós", "album": "Takk...", "title": "Sæglópur", "trackNumber": 2}"#,
            #"{"artist": "Ghost Artist", "album": "Nowhere", "title": "Zero", "trackNumber": 0}"#,
            #"{"artist": "Björk", "album": "Homogenic", "title": "Jóga", "audio": "\#(audio)"}"#,
            #"{"artist": "Björk", "album": "Homogenic", "title": "Missing file", "audio": "\#(directory)/nope.flac"}"#,
        ]
        let file = directory + "/catalog.jsonl"
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)

        let (output, errors) = try runEncore(["catalog", "import", file, "--data-dir", data], databaseURL: databaseURL)
        #expect(output.contains("imported 4 tracks from 11 lines"), "\(output)")
        #expect(output.contains("skipped 6 bad lines"), "\(output)")
        for line in [5, 6, 7, 8, 9, 11] { #expect(errors.contains("line \(line):"), "line \(line) not reported: \(errors)") }
        #expect(errors.contains("track number 2 is taken"))
        #expect(!errors.contains("line 4:"))  // blank lines are fine

        try await withServer({
            $0.dataDirectory = data
            $0.databaseURL = databaseURL
        }) { server in
            let client = Client(server: server)
            let (token, _) = try await client.register(role: "listener")
            func search(_ query: String, _ types: String) async throws -> [String: Any] {
                let escaped = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
                return try await HTTP.send("GET", server.api + "/search?q=\(escaped)&types=\(types)", token: token).json
            }
            #expect((try await search("sigur ros", "artist")["artists"] as? [Any])?.count == 1)
            #expect((try await search("takk", "album")["albums"] as? [Any])?.count == 1)
            let hoppipolla = try #require((try await search("hoppipolla", "track")["tracks"] as? [[String: Any]])?.first)
            #expect(hoppipolla["playable"] as? Bool == false)
            #expect(hoppipolla["status"] as? String == "pending")
            #expect(hoppipolla["trackNumber"] as? Int == 3)  // after the explicit 2
            #expect((try await search("ghost artist", "artist,album,track")["artists"] as? [Any])?.isEmpty == true)
            // Popularity from the imported play counts: the more played track of the album comes first.
            let takk = try #require(try await search("sigur ros takk", "track")["tracks"] as? [[String: Any]])
            #expect(takk.first?["title"] as? String == "Hoppípolla")

            let joga = try #require((try await search("joga", "track")["tracks"] as? [[String: Any]])?.first)
            let id = try #require(joga["id"] as? String)
            let settled = try await client.settled(id, token: token)
            #expect(settled["status"] as? String == "ready")
            #expect((try await search("joga", "track")["tracks"] as? [[String: Any]])?.first?["playable"] as? Bool == true)
            // Metadata-only tracks cannot be streamed yet.
            let stream = try await HTTP.send("GET", server.api + "/tracks/\(try #require(hoppipolla["id"] as? String))/stream", token: token)
            #expect(stream.errorCode == "track_not_ready")
        }
    }

    @Test("search reindex rebuilds the index from the catalog", arguments: Backend.allCases)
    func reindex(backend: Backend) async throws {
        let databaseURL = try backend.databaseURL()
        let directory = try temporaryDirectory("encore-reindex")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/c.jsonl"
        try #"{"artist": "Motörhead", "album": "Ace of Spades", "title": "Ace of Spades"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        _ = try runEncore(["catalog", "import", file, "--data-dir", directory + "/data"], databaseURL: databaseURL)
        let (output, _) = try runEncore(["search", "reindex", "--data-dir", directory + "/data"], databaseURL: databaseURL)
        #expect(output.contains("indexed 3 documents"), "\(output)")
        let (hits, _) = try runEncore(["search", "query", "motorhead ace", "--data-dir", directory + "/data"], databaseURL: databaseURL)
        #expect(hits.split(separator: "\n").count == 2)  // the album and the track (the artist has no "ace")
    }

    /// Runs the encore executable; returns its standard output and standard error.
    func runEncore(_ arguments: [String], databaseURL: String? = nil) throws -> (String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try encoreExecutable())
        process.arguments = arguments
        if let databaseURL { process.environment = ProcessInfo.processInfo.environment.merging(["ENCORE_DATABASE_URL": databaseURL]) { $1 } }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "encore \(arguments) failed: \(String(decoding: err, as: UTF8.self))")
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
