import EncoreApp
import EncoreServer
import Foundation
import Testing

@Suite("Tracks: upload → create → stream", .timeLimit(.minutes(5)))
struct TrackTests {
    @Test("an ffmpeg FLAC uploads, is processed to ready, and its original streams back byte-identical")
    func flacRoundTrip() async throws {
        let flac = try AudioFixtures.make(seconds: 4, format: "flac")
        try await withServer { server in
            let client = Client(server: server)
            let (token, _) = try await client.register()
            let (artist, album) = try await client.artistAndAlbum(token)
            let trackUrl = try await client.upload(flac, token: token)
            // The upload is on disk, waiting: the emptiness checks below are about a folder that had it.
            let uploaded = try uploadFiles(server)
            #expect(uploaded.count == 1, "\(uploaded)")
            let created = try await HTTP.send(
                "POST", server.api + "/tracks", json: ["albumId": album, "title": "Svefn-g-englar", "trackUrl": trackUrl], token: token)
            #expect(created.status == 201)
            #expect(created.string("status") == "processing")
            #expect(created.json["trackNumber"] as? Int == 1)
            let id = try #require(created.string("id"))

            let track = try await client.settled(id, token: token)
            #expect(track["status"] as? String == "ready")
            #expect(track["artistId"] as? String == artist)
            #expect((track["durationMs"] as? Int).map { abs($0 - 4000) <= 30 } == true)
            let audio = try #require(track["audio"] as? [String: Any])
            #expect(audio["codec"] as? String == "flac")
            #expect(audio["sampleRate"] as? Int == 44100)
            #expect(audio["channels"] as? Int == 2)
            #expect(audio["sizeBytes"] as? Int == flac.count)
            #expect((track["renditions"] as? [Any])?.count == 3)
            #expect((track["progressive"] as? [Any])?.count == 10)
            #expect((track["loudness"] as? [String: Any])?["integratedLufs"] is Double)

            let stream = try await HTTP.send("GET", server.api + "/tracks/\(id)/stream", token: token)
            #expect(stream.status == 200)
            #expect(stream.string("albumId")?.lowercased() == album.lowercased())
            #expect(stream.string("title") == "Svefn-g-englar")
            #expect(stream.string("trackUrl") == stream.string("hls"))
            let original = try #require((stream.json["progressive"] as? [[String: Any]])?.first)
            #expect(original["format"] as? String == "flac")
            let url = try #require(original["url"] as? String)
            let download = try await HTTP.send("GET", url)
            #expect(download.status == 200)
            #expect(download.headers["content-type"] == "audio/flac")
            #expect(download.body == flac)

            // A real media client reads the same URL.
            let probe = try await runTool("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", url])
            #expect(Double(probe.trimmingCharacters(in: .whitespacesAndNewlines)).map { abs($0 - 4) < 0.05 } == true)
            // The upload itself is gone: only the committed media folder is left, and it holds the original and
            // the playlists.
            let stored = try trackFiles(server)
            let media = try #require(stored.first.map { $0.split(separator: "/").prefix(2).joined(separator: "/") }, "no track files")
            #expect(media.hasPrefix("\(id.lowercased())/media-"))
            #expect(stored.allSatisfy { $0.hasPrefix(media + "/") }, "\(stored)")
            #expect(Set(stored).isSuperset(of: ["original.flac", "stream/master.m3u8", "stream/manifest.mpd"].map { media + "/" + $0 }), "\(stored)")
            #expect(try uploadFiles(server).isEmpty)
            #expect(try leftoverFiles(server).isEmpty)
        }
    }

    @Test("a stream is not a play: players report plays, once per play id, counted from 30 s or a whole short track")
    func plays() async throws {
        let wav = try AudioFixtures.make(seconds: 1, format: "wav")
        try await withServer { server in
            let client = Client(server: server)
            let (artistToken, _) = try await client.register()
            let (_, album) = try await client.artistAndAlbum(artistToken)
            let id = try #require(try await client.readyTrack(wav, album: album, token: artistToken)["id"] as? String)
            let (listener, listenerId) = try await client.register(role: "listener")
            let database = server.dataDirectory + "/encore.sqlite"
            let hexId = listenerId.lowercased().replacingOccurrences(of: "-", with: "")
            func count(_ condition: String) async throws -> String {
                try await runTool("sqlite3", [database, "SELECT COUNT(*) FROM play WHERE lower(hex(userId)) = '\(hexId)' AND \(condition)"])
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            for _ in 0..<3 { #expect(try await HTTP.send("GET", server.api + "/tracks/\(id)/stream", token: listener).status == 200) }
            #expect(try await count("1") == "0")  // issuing stream URLs records nothing

            func report(_ playId: String, ms: Int, at: String) async throws -> HTTPResult {
                try await HTTP.send(
                    "POST", server.api + "/plays", json: ["playId": playId, "trackId": id, "msPlayed": ms, "playedAt": at], token: listener)
            }
            let full = UUID().uuidString
            let first = try await report(full, ms: 35_000, at: "2026-12-01T10:00:00Z")
            #expect(first.status == 201)
            #expect(first.json["counted"] as? Bool == true)
            #expect(first.json["id"] as? String == full.lowercased())
            let again = try await report(full, ms: 35_000, at: "2026-12-01T10:00:00Z")  // a retry after a lost response
            #expect(again.status == 200)
            #expect(try await count("1") == "1")
            #expect(try await report(UUID().uuidString, ms: 500, at: "2026-12-01T11:00:00Z").json["counted"] as? Bool == false)  // a skip
            // The track is one second long: playing it through counts even though that is under 30 s.
            #expect(try await report(UUID().uuidString, ms: 1_000, at: "2026-12-01T12:00:00Z").json["counted"] as? Bool == true)
            #expect(try await count("counts = 1") == "2")
            #expect(try await count("counts = 0") == "1")

            let history = try await HTTP.send("GET", server.api + "/users/me/history?limit=2", token: listener)
            #expect(history.status == 200)
            let items = try #require(history.json["items"] as? [[String: Any]])
            #expect(items.map { $0["playedAt"] as? String } == ["2026-12-01T12:00:00Z", "2026-12-01T11:00:00Z"])
            #expect(items.map { $0["trackId"] as? String } == [id.lowercased(), id.lowercased()])
            #expect(history.json["nextOffset"] as? Int == 2)

            let negative = try await report(UUID().uuidString, ms: -1, at: "2026-12-01T12:00:00Z")
            #expect(negative.status == 400)
            #expect(negative.errorCode == "invalid_play")
            let unknown = try await HTTP.send(
                "POST", server.api + "/plays", json: ["playId": UUID().uuidString, "trackId": UUID().uuidString, "msPlayed": 40_000], token: listener)
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "track_not_found")
        }
    }

    @Test("bad uploads are accepted, end failed with a specific reason, and leave nothing behind; good ones still go through")
    func badUploads() async throws {
        let flac = try AudioFixtures.make(seconds: 5, format: "flac")  // under the 6 s limit below, so truncation is what fails
        let good = try AudioFixtures.make(seconds: 2, format: "mp3")
        let corpus: [(String, Data, String)] = [
            ("empty", Data(), "empty"),
            ("text renamed .flac", Data("this is not audio at all, just words\n".utf8), "recognisable"),
            ("random bytes", Data((0..<4096).map { _ in UInt8.random(in: 0...255) }), "recognisable"),
            ("truncated FLAC", flac.prefix(flac.count / 2), "truncated"),
            ("over-long", try AudioFixtures.make(seconds: 8, format: "flac"), "longer than"),
        ]
        try await withServer({ $0.maxAudioDuration = .seconds(6) }) { server in
            let client = Client(server: server)
            let (token, _) = try await client.register()
            let (_, album) = try await client.artistAndAlbum(token)
            // A good track first: its files show that the listing below is of a real folder.
            let goodId = try #require(try await client.readyTrack(good, album: album, token: token)["id"] as? String)
            let goodFiles = try trackFiles(server).filter { $0.hasPrefix(goodId.lowercased() + "/") }
            #expect(!goodFiles.isEmpty)
            for (name, bytes, reason) in corpus {
                let trackUrl = try await client.upload(bytes, token: token)
                #expect(try uploadFiles(server).count == 1, "\(name): the upload is not on disk")
                let created = try await HTTP.send(
                    "POST", server.api + "/tracks", json: ["albumId": album, "title": name, "trackUrl": trackUrl], token: token)
                #expect(created.status == 201, "\(name)")
                let id = try #require(created.string("id"))
                let track = try await client.settled(id, token: token)
                #expect(track["status"] as? String == "failed", "\(name)")
                let failure = track["failureReason"] as? [String: Any]
                #expect(failure?["code"] as? String == "invalid_audio", "\(name)")
                #expect((failure?["message"] as? String)?.contains(reason) == true, "\(name): \(failure?["message"] ?? "")")
                let stream = try await HTTP.send("GET", server.api + "/tracks/\(id)/stream", token: token)
                #expect(stream.status == 409)
                #expect(stream.errorCode == "track_failed")
                #expect(try trackFiles(server).filter { $0.hasPrefix(id.lowercased()) }.isEmpty, "\(name)")
                #expect(try uploadFiles(server).isEmpty, "\(name)")
            }
            #expect(try leftoverFiles(server).isEmpty)
            // The failures took nothing of the good track with them.
            #expect(try trackFiles(server).filter { $0.hasPrefix(goodId.lowercased() + "/") } == goodFiles)
            #expect(try await client.readyTrack(good, album: album, token: token)["status"] as? String == "ready")
        }
    }

    @Test("a track still processing answers 409 track_not_ready")
    func notReady() async throws {
        let flac = try AudioFixtures.make(seconds: 1)
        try await withServer({ $0.workers = 0 }) { server in
            let client = Client(server: server)
            let (token, _) = try await client.register()
            let (_, album) = try await client.artistAndAlbum(token)
            let id = try #require(try await client.createTrack(flac, album: album, token: token).string("id"))
            let stream = try await HTTP.send("GET", server.api + "/tracks/\(id)/stream", token: token)
            #expect(stream.status == 409)
            #expect(stream.errorCode == "track_not_ready")
        }
    }

    @Test("POST /tracks checks the album, the upload's owner and its existence")
    func createValidation() async throws {
        let flac = try AudioFixtures.make(seconds: 1)
        try await withServer { server in
            let client = Client(server: server)
            let (alice, _) = try await client.register()
            let (bob, _) = try await client.register()
            let (_, aliceAlbum) = try await client.artistAndAlbum(alice)
            let (_, bobAlbum) = try await client.artistAndAlbum(bob)
            let aliceUpload = try await client.upload(flac, token: alice)

            func post(_ body: [String: any Sendable], _ token: String) async throws -> HTTPResult {
                try await HTTP.send("POST", server.api + "/tracks", json: body, token: token)
            }
            // Bob may not use Alice's upload, nor put a track on Alice's album.
            #expect(try await post(["albumId": bobAlbum, "title": "x", "trackUrl": aliceUpload], bob).errorCode == "upload_not_yours")
            let bobUpload = try await client.upload(flac, token: bob)
            let foreignAlbum = try await post(["albumId": aliceAlbum, "title": "x", "trackUrl": bobUpload], bob)
            #expect(foreignAlbum.status == 403)
            #expect(try await post(["albumId": UUID().uuidString, "title": "x", "trackUrl": aliceUpload], alice).status == 404)
            #expect(try await post(["albumId": aliceAlbum, "title": "   ", "trackUrl": aliceUpload], alice).errorCode == "invalid_title")
            #expect(
                try await post(["albumId": aliceAlbum, "title": "x", "trackUrl": "https://evil.example/x"], alice).errorCode == "invalid_track_url")
            #expect(
                try await post(["albumId": aliceAlbum, "title": "x", "trackUrl": aliceUpload, "trackNumber": 0], alice).errorCode
                    == "invalid_track_number")
            let missing = "blob:uploads/\(try await me(server, alice))/\(UUID().uuidString.lowercased())"
            #expect(try await post(["albumId": aliceAlbum, "title": "x", "trackUrl": missing], alice).errorCode == "upload_missing")

            // The failures above left Alice's upload usable; once used it cannot be used again.
            #expect(try await post(["albumId": aliceAlbum, "title": "x", "trackUrl": aliceUpload], alice).status == 201)
            #expect(try await post(["albumId": aliceAlbum, "title": "y", "trackUrl": aliceUpload], alice).errorCode == "upload_missing")

            // A taken track number is a conflict, and the upload survives for a retry.
            let second = try await client.upload(flac, token: alice)
            #expect(
                try await post(["albumId": aliceAlbum, "title": "y", "trackUrl": second, "trackNumber": 1], alice).errorCode == "track_number_taken")
            #expect(try await post(["albumId": aliceAlbum, "title": "y", "trackUrl": second, "trackNumber": 2], alice).status == 201)

            // Listeners publish nothing.
            let (listener, _) = try await client.register(role: "listener")
            #expect(try await HTTP.send("GET", server.api + "/tracks/upload-url", token: listener).errorCode == "artist_role_required")
        }
    }

    @Test("album track listing is in track-number order and paginated")
    func albumTracks() async throws {
        let flac = try AudioFixtures.make(seconds: 1)
        try await withServer { server in
            let client = Client(server: server)
            let (token, _) = try await client.register()
            let (_, album) = try await client.artistAndAlbum(token)
            for number in [3, 1, 2] {
                let url = try await client.upload(flac, token: token)
                let result = try await HTTP.send(
                    "POST", server.api + "/tracks", json: ["albumId": album, "title": "T\(number)", "trackUrl": url, "trackNumber": number],
                    token: token)
                #expect(result.status == 201)
            }
            let first = try await HTTP.send("GET", server.api + "/albums/\(album)/tracks?limit=2", token: token)
            let items = try #require(first.json["items"] as? [[String: Any]])
            #expect(items.map { $0["title"] as? String } == ["T1", "T2"])
            #expect(first.json["nextOffset"] as? Int == 2)
            let second = try await HTTP.send("GET", server.api + "/albums/\(album)/tracks?limit=2&offset=2", token: token)
            #expect((second.json["items"] as? [[String: Any]])?.map { $0["title"] as? String } == ["T3"])
            #expect(second.json["nextOffset"] is NSNull)
        }
    }

    @Test("PATCH changes metadata; new audio is processed while the old plays, then swapped and removed; only the owner may")
    func updateTrack() async throws {
        let first = try AudioFixtures.make(seconds: 1, format: "flac")
        let replacement = try AudioFixtures.make(seconds: 2, format: "mp3", frequency: 660)
        let directory = try temporaryDirectory("encore-replace")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        // No worker in the server: jobs run only while a separate worker process is up, so the replacement
        // can be caught half-way, queued with the old audio still in place.
        try await withServer({
            $0.dataDirectory = data
            $0.workers = 0
        }) { server in
            let client = Client(server: server)
            let (token, _) = try await client.register()
            let (_, album) = try await client.artistAndAlbum(token)
            let created = try await client.createTrack(first, album: album, token: token)
            let id = try #require(created.string("id"))
            try await withWorker(data: data) { _ = try await client.settled(id, token: token) }
            let before = try mediaFolders(server, id)
            #expect(before.count == 1)

            let renamed = try await HTTP.send("PATCH", server.api + "/tracks/\(id)", json: ["title": "New name", "trackNumber": 7], token: token)
            #expect(renamed.status == 200)
            #expect(renamed.string("title") == "New name")
            #expect(renamed.json["trackNumber"] as? Int == 7)

            let (other, _) = try await client.register()
            #expect(try await HTTP.send("PATCH", server.api + "/tracks/\(id)", json: ["title": "mine"], token: other).status == 403)
            #expect(try await HTTP.send("GET", server.api + "/tracks/update-url/\(id)", token: other).status == 403)
            #expect(try await HTTP.send("DELETE", server.api + "/tracks/\(id)", token: other).status == 403)
            #expect(try await HTTP.send("PATCH", server.api + "/tracks/\(id)", json: [:], token: token).errorCode == "empty_patch")

            let grant = try await HTTP.send("GET", server.api + "/tracks/update-url/\(id)", token: token)
            #expect(grant.status == 200)
            #expect(try await HTTP.send("PUT", try #require(grant.string("uploadUrl")), body: replacement).status == 201)
            let patched = try await HTTP.send(
                "PATCH", server.api + "/tracks/\(id)", json: ["trackUrl": try #require(grant.string("trackUrl"))], token: token)
            #expect(patched.status == 200)
            #expect(patched.string("status") == "ready")
            #expect(patched.json["replacement"] != nil, "the track shows no replacement under way")

            // Mid-replacement: the new audio waits under the track's folder, and the old audio still streams,
            // from a fresh grant as from the renditions themselves.
            #expect(try trackFiles(server).contains { $0.hasPrefix(id.lowercased() + "/source-") })
            let during = try await HTTP.send("GET", server.api + "/tracks/\(id)/stream", token: token)
            #expect(during.status == 200)
            let oldOriginal = try #require((during.json["progressive"] as? [[String: Any]])?.first?["url"] as? String)
            let oldOriginalBody = try await HTTP.send("GET", oldOriginal)
            #expect(oldOriginalBody.status == 200)
            #expect(oldOriginalBody.body == first)
            let oldHLS = try #require(during.string("hls"))
            let master = try await HTTP.send("GET", oldHLS)
            #expect(master.status == 200)
            let variant = try #require(String(decoding: master.body, as: UTF8.self).split(separator: "\n").first { !$0.hasPrefix("#") })
            let variantURL = try #require(URL(string: String(variant), relativeTo: URL(string: oldHLS))?.absoluteString)
            #expect(try await HTTP.send("GET", variantURL).status == 200)
            // A real client decodes the old audio while the new one waits.
            let playing = try await runTool("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", oldHLS])
            #expect(Double(playing.trimmingCharacters(in: .whitespacesAndNewlines)).map { abs($0 - 1) < 0.1 } == true, "\(playing)")
            #expect(try mediaFolders(server, id) == before)

            let settled = try await withWorker(data: data) { try await client.settled(id, token: token) }
            #expect((settled["audio"] as? [String: Any])?["codec"] as? String == "mp3")
            let after = try mediaFolders(server, id)
            #expect(after.count == 1)
            #expect(after != before)
            #expect(try trackFiles(server).filter { $0.contains("/source-") }.isEmpty)
            // The old renditions are removed: the URLs handed out before the swap answer 404.
            #expect(try await HTTP.send("GET", oldOriginal).status == 404)
            #expect(try await HTTP.send("GET", oldHLS).status == 404)

            let stream = try await HTTP.send("GET", server.api + "/tracks/\(id)/stream", token: token)
            let original = try #require((stream.json["progressive"] as? [[String: Any]])?.first)
            let download = try await HTTP.send("GET", try #require(original["url"] as? String))
            #expect(download.body == replacement)
            #expect(download.headers["content-type"] == "audio/mpeg")

            // Moving to an album of someone else is refused.
            let (_, otherAlbum) = try await client.artistAndAlbum(other)
            #expect(try await HTTP.send("PATCH", server.api + "/tracks/\(id)", json: ["albumId": otherAlbum], token: token).status == 403)
        }
    }

    @Test("DELETE removes the row and every stored object; the stream is gone")
    func deleteTrack() async throws {
        let flac = try AudioFixtures.make(seconds: 1)
        try await withServer { server in
            let client = Client(server: server)
            let (token, _) = try await client.register()
            let (_, album) = try await client.artistAndAlbum(token)
            let id = try #require(try await client.readyTrack(flac, album: album, token: token)["id"] as? String)
            let url = try #require(try await HTTP.send("GET", server.api + "/tracks/\(id)/stream", token: token).string("hls"))
            #expect(try await HTTP.send("GET", url).status == 200)  // now in the media origin's memory too
            #expect(try trackFiles(server).contains { $0.hasPrefix(id.lowercased() + "/media-") })
            let deleted = try await HTTP.send("DELETE", server.api + "/tracks/\(id)", token: token)
            #expect(deleted.status == 200)
            #expect(deleted.string("id")?.lowercased() == id.lowercased())
            #expect(try await HTTP.send("GET", server.api + "/tracks/\(id)", token: token).errorCode == "track_not_found")
            #expect(try await HTTP.send("GET", server.api + "/tracks/\(id)/stream", token: token).status == 404)
            #expect(try await HTTP.send("GET", url).status == 404)
            #expect(try trackFiles(server).isEmpty)
            #expect(try await HTTP.send("DELETE", server.api + "/tracks/\(id)", token: token).status == 404)
        }
    }

    @Test("deleting an album, an artist or an account removes their tracks' objects")
    func cascadingDeletes() async throws {
        let flac = try AudioFixtures.make(seconds: 1)
        try await withServer { server in
            let client = Client(server: server)
            let (token, _) = try await client.register()
            let (artist, album) = try await client.artistAndAlbum(token)
            _ = try await client.readyTrack(flac, album: album, token: token)
            #expect(try !trackFiles(server).isEmpty)
            #expect(try await HTTP.send("DELETE", server.api + "/albums/\(album)", token: token).status == 200)
            #expect(try trackFiles(server).isEmpty)

            let album2 = try #require(
                try await HTTP.send("POST", server.api + "/albums", json: ["artistId": artist, "title": "Two"], token: token).string("id"))
            _ = try await client.readyTrack(flac, album: album2, token: token)
            #expect(try !trackFiles(server).isEmpty)
            #expect(try await HTTP.send("DELETE", server.api + "/artists/\(artist)", token: token).status == 200)
            #expect(try trackFiles(server).isEmpty)

            let (_, album3) = try await client.artistAndAlbum(token)
            let id = try #require(try await client.readyTrack(flac, album: album3, token: token)["id"] as? String)
            #expect(try !trackFiles(server).isEmpty)
            #expect(try await HTTP.send("DELETE", server.api + "/users/me", token: token).status == 200)
            #expect(try trackFiles(server).isEmpty)
            let (listener, _) = try await client.register(role: "listener")
            #expect(try await HTTP.send("GET", server.api + "/tracks/\(id)", token: listener).status == 404)
        }
    }

    @Test("streaming an unknown track is 404; a bad id is 400")
    func streamUnknown() async throws {
        try await withServer { server in
            let (token, _) = try await Client(server: server).register(role: "listener")
            #expect(try await HTTP.send("GET", server.api + "/tracks/\(UUID().uuidString)/stream", token: token).errorCode == "track_not_found")
            #expect(try await HTTP.send("GET", server.api + "/tracks/not-a-uuid/stream", token: token).errorCode == "invalid_id")
        }
    }
}

func me(_ server: TestServer, _ token: String) async throws -> String {
    try #require(try await HTTP.send("GET", server.api + "/users/me", token: token).string("id")).lowercased()
}

/// The committed media folders of a track.
func mediaFolders(_ server: TestServer, _ id: String) throws -> Set<String> {
    Set(try trackFiles(server).filter { $0.hasPrefix(id.lowercased() + "/media-") }.map { String($0.split(separator: "/")[1]) })
}

/// Files stored under `tracks/`.
func trackFiles(_ server: TestServer) throws -> [String] {
    try files(under: server.dataDirectory + "/blobs/tracks")
}

/// Files stored under `uploads/` (uploads not yet made tracks).
func uploadFiles(_ server: TestServer) throws -> [String] {
    try files(under: server.dataDirectory + "/blobs/uploads")
}

/// Files left under `uploads/` and in the temporary directory (uploads in flight and render folders). The
/// temporary directory is never pruned, so it must be there.
func leftoverFiles(_ server: TestServer) throws -> [String] {
    let temporary = server.dataDirectory + "/tmp"
    var isDirectory: ObjCBool = false
    try #require(FileManager.default.fileExists(atPath: temporary, isDirectory: &isDirectory) && isDirectory.boolValue, "no \(temporary)")
    return try uploadFiles(server) + files(under: temporary)
}

/// Files under `path`, relative to it; none when the folder is missing, as the blob store prunes the folders it
/// empties. An emptiness check means something only once the same listing has been seen to find files.
func files(under path: String) throws -> [String] {
    guard FileManager.default.fileExists(atPath: path) else { return [] }
    return (FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []).filter { relative in
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path + "/" + relative, isDirectory: &isDirectory)
        return !isDirectory.boolValue
    }.sorted()
}

/// Runs a command-line tool and returns its standard output; fails the test on a non-zero exit.
///
/// The wait happens on a dispatch thread, never on the cooperative pool: the tool is often a client of a
/// server running in this very process, whose handlers need that pool to answer it.
func runTool(_ tool: String, _ arguments: [String]) async throws -> String {
    let (status, data) = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Int32, Data), any Error>) in
        DispatchQueue.global().async {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [tool] + arguments
            let output = Pipe()
            process.standardOutput = output
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
                return
            }
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            continuation.resume(returning: (process.terminationStatus, data))
        }
    }
    try #require(status == 0, "\(tool) exited with \(status)")
    return String(decoding: data, as: UTF8.self)
}
