import EncoreApp
import EncoreServer
import Foundation
import Testing

@Suite("Artists and albums", .timeLimit(.minutes(5)))
struct CatalogTests {
    @Test("artists: create, read, list, update, delete; only the owner or an admin may change them")
    func artists() async throws {
        try await withServer { server in
            let client = Client(server: server)
            let (alice, aliceId) = try await client.register()
            let (bob, _) = try await client.register()
            let (listener, _) = try await client.register(role: "listener")

            let created = try await HTTP.send(
                "POST", server.api + "/artists", json: ["name": "  Beyoncé ", "bio": "Singer", "country": "us"], token: alice)
            #expect(created.status == 201)
            #expect(created.string("name") == "Beyoncé")
            #expect(created.string("country") == "US")
            #expect(created.string("ownerId")?.lowercased() == aliceId.lowercased())
            let id = try #require(created.string("id"))

            #expect(try await HTTP.send("POST", server.api + "/artists", json: ["name": "Nope"], token: listener).errorCode == "artist_role_required")
            #expect(
                try await HTTP.send("POST", server.api + "/artists", json: ["name": "X", "country": "USA"], token: alice).errorCode
                    == "invalid_country")
            #expect(try await HTTP.send("GET", server.api + "/artists/\(id)", token: listener).string("bio") == "Singer")

            #expect(try await HTTP.send("PATCH", server.api + "/artists/\(id)", json: ["name": "Hijacked"], token: bob).status == 403)
            #expect(try await HTTP.send("DELETE", server.api + "/artists/\(id)", token: bob).status == 403)
            let updated = try await HTTP.send(
                "PATCH", server.api + "/artists/\(id)", json: ["bio": "Singer, songwriter", "country": ""], token: alice)
            #expect(updated.string("bio") == "Singer, songwriter")
            #expect(updated.json["country"] == nil || updated.json["country"] is NSNull)

            _ = try await HTTP.send("POST", server.api + "/artists", json: ["name": "ABBA"], token: bob)
            let all = try await HTTP.send("GET", server.api + "/artists", token: listener)
            #expect((all.json["items"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["ABBA", "Beyoncé"])
            let mine = try await HTTP.send("GET", server.api + "/artists?ownerId=\(aliceId)", token: listener)
            #expect((mine.json["items"] as? [[String: Any]])?.count == 1)

            #expect(try await HTTP.send("DELETE", server.api + "/artists/\(id)", token: alice).status == 200)
            #expect(try await HTTP.send("GET", server.api + "/artists/\(id)", token: alice).errorCode == "artist_not_found")
        }
    }

    @Test("albums: validated, owned through their artist, listed per artist")
    func albums() async throws {
        try await withServer { server in
            let client = Client(server: server)
            let (alice, _) = try await client.register()
            let (bob, _) = try await client.register()
            let (artist, album) = try await client.artistAndAlbum(alice)

            #expect(try await HTTP.send("POST", server.api + "/albums", json: ["artistId": artist, "title": "Mine now"], token: bob).status == 403)
            #expect(
                try await HTTP.send("POST", server.api + "/albums", json: ["artistId": UUID().uuidString, "title": "X"], token: alice).status == 404)
            let badDate = try await HTTP.send(
                "POST", server.api + "/albums", json: ["artistId": artist, "title": "X", "releaseDate": "2023-02-30"], token: alice)
            #expect(badDate.errorCode == "invalid_releaseDate")
            let dated = try await HTTP.send(
                "POST", server.api + "/albums", json: ["artistId": artist, "title": "Takk...", "genre": "Post-rock", "releaseDate": "2005-09-12"],
                token: alice)
            #expect(dated.status == 201)
            #expect(dated.string("releaseDate") == "2005-09-12")

            #expect(try await HTTP.send("PATCH", server.api + "/albums/\(album)", json: ["title": "Stolen"], token: bob).status == 403)
            let patched = try await HTTP.send(
                "PATCH", server.api + "/albums/\(album)", json: ["title": "Ágætis byrjun (remaster)", "genre": "Post-rock"], token: alice)
            #expect(patched.string("title") == "Ágætis byrjun (remaster)")
            #expect(patched.string("genre") == "Post-rock")

            let list = try await HTTP.send("GET", server.api + "/artists/\(artist)/albums", token: bob)
            #expect((list.json["items"] as? [[String: Any]])?.count == 2)
            #expect(try await HTTP.send("GET", server.api + "/artists/\(UUID().uuidString)/albums", token: bob).errorCode == "artist_not_found")
            #expect(try await HTTP.send("GET", server.api + "/albums/\(UUID().uuidString)/tracks", token: bob).errorCode == "album_not_found")
            #expect(try await HTTP.send("GET", server.api + "/albums/\(album)/tracks?limit=500", token: bob).errorCode == "invalid_limit")
            #expect(
                try await HTTP.send("PATCH", server.api + "/albums/\(album)", json: ["releaseDate": "yesterday"], token: alice).errorCode
                    == "invalid_releaseDate")
            #expect(
                try await HTTP.send("PATCH", server.api + "/artists/\(artist)", json: ["country": "Iceland"], token: alice).errorCode
                    == "invalid_country")
            #expect(try await HTTP.send("DELETE", server.api + "/albums/\(album)", token: bob).status == 403)
            #expect(try await HTTP.send("DELETE", server.api + "/albums/\(album)", token: alice).status == 200)
            #expect(try await HTTP.send("GET", server.api + "/albums/\(album)", token: alice).errorCode == "album_not_found")
        }
    }

    @Test("pagination: limit is 1…100, offset ≥ 0, nextOffset points at the next page")
    func pagination() async throws {
        try await withServer { server in
            let (token, _) = try await Client(server: server).register()
            for index in 0..<5 { _ = try await HTTP.send("POST", server.api + "/artists", json: ["name": "Artist \(index)"], token: token) }
            #expect(try await HTTP.send("GET", server.api + "/artists?limit=101", token: token).errorCode == "invalid_limit")
            #expect(try await HTTP.send("GET", server.api + "/artists?limit=0", token: token).errorCode == "invalid_limit")
            #expect(try await HTTP.send("GET", server.api + "/artists?limit=ten", token: token).errorCode == "invalid_limit")
            #expect(try await HTTP.send("GET", server.api + "/artists?offset=-1", token: token).errorCode == "invalid_offset")
            var names: [String] = []
            var offset: Int? = 0
            while let next = offset {
                let page = try await HTTP.send("GET", server.api + "/artists?limit=2&offset=\(next)", token: token)
                names += (page.json["items"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                offset = page.json["nextOffset"] as? Int
            }
            #expect(names == (0..<5).map { "Artist \($0)" })
        }
    }

    @Test("an admin created from the CLI path may change any artist")
    func adminOverride() async throws {
        let directory = try temporaryDirectory("encore-admin")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withServer({ $0.dataDirectory = directory }) { server in
            let (alice, _) = try await Client(server: server).register()
            let (artist, _) = try await Client(server: server).artistAndAlbum(alice)
            let encore = try encoreExecutable()
            _ = try await runTool(
                encore, ["admin", "create", "--data-dir", directory, "--email", "root@example.com", "--password", "admin password"])
            let login = try await HTTP.send("POST", server.api + "/auth/login", json: ["email": "root@example.com", "password": "admin password"])
            #expect((login.json["user"] as? [String: Any])?["role"] as? String == "admin")
            let admin = try #require(login.string("token"))
            #expect(try await HTTP.send("PATCH", server.api + "/artists/\(artist)", json: ["name": "Moderated"], token: admin).status == 200)
        }
    }
}

/// The `encore` binary built next to the tests.
func encoreExecutable() throws -> String {
    let candidates = [Bundle.main.bundlePath, CommandLine.arguments.first.map { ($0 as NSString).deletingLastPathComponent } ?? ""]
        .flatMap { directory in [directory + "/encore", (directory as NSString).deletingLastPathComponent + "/encore"] }
    return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0) }, "build the encore executable first (swift build)")
}

@Suite("Playlists", .timeLimit(.minutes(5)))
struct PlaylistTests {
    @Test("add, insert, move and remove entries; positions stay dense")
    func editing() async throws {
        let audio = try AudioFixtures.make(seconds: 1, format: "wav")
        try await withServer { server in
            let client = Client(server: server)
            let (artist, _) = try await client.register()
            let (_, album) = try await client.artistAndAlbum(artist)
            var tracks: [String] = []
            for title in ["A", "B", "C"] {
                tracks.append(try #require(try await client.createTrack(audio, album: album, token: artist, title: title).string("id")))
            }
            let (listener, _) = try await client.register(role: "listener")
            let created = try await HTTP.send("POST", server.api + "/playlists", json: ["title": "Road trip"], token: listener)
            #expect(created.status == 201)
            #expect(created.json["isPublic"] as? Bool == false)
            let id = try #require(created.string("id"))
            let base = server.api + "/playlists/\(id)/tracks"

            for track in tracks { #expect(try await HTTP.send("POST", base, json: ["trackId": track], token: listener).status == 200) }
            let inserted = try await HTTP.send("POST", base, json: ["trackId": tracks[2], "position": 0], token: listener)
            #expect(inserted.json["trackCount"] as? Int == 4)
            func titles() async throws -> [String] {
                let page = try await HTTP.send("GET", base, token: listener)
                let items = page.json["items"] as? [[String: Any]] ?? []
                #expect(items.compactMap { $0["position"] as? Int } == Array(0..<items.count))
                return items.compactMap { ($0["track"] as? [String: Any])?["title"] as? String }
            }
            #expect(try await titles() == ["C", "A", "B", "C"])
            #expect(try await HTTP.send("POST", base + "/move", json: ["from": 0, "to": 3], token: listener).status == 200)
            #expect(try await titles() == ["A", "B", "C", "C"])
            #expect(try await HTTP.send("DELETE", base + "/1", token: listener).status == 200)
            #expect(try await titles() == ["A", "C", "C"])
            #expect(try await HTTP.send("DELETE", base + "/9", token: listener).status == 404)
            #expect(try await HTTP.send("POST", base, json: ["trackId": tracks[0], "position": 9], token: listener).errorCode == "invalid_position")
            #expect(try await HTTP.send("POST", base, json: ["trackId": UUID().uuidString], token: listener).errorCode == "track_not_found")

            // Deleting a track takes it out of playlists.
            #expect(try await HTTP.send("DELETE", server.api + "/tracks/\(tracks[2])", token: artist).status == 200)
            #expect(try await titles() == ["A"])
        }
    }

    @Test("private playlists are invisible to others; public ones are read-only to others")
    func visibility() async throws {
        let audio = try AudioFixtures.make(seconds: 1, format: "wav")
        try await withServer { server in
            let client = Client(server: server)
            let (artist, _) = try await client.register()
            let (_, album) = try await client.artistAndAlbum(artist)
            let track = try #require(try await client.createTrack(audio, album: album, token: artist).string("id"))
            let (owner, _) = try await client.register(role: "listener")
            let (stranger, _) = try await client.register(role: "listener")
            let id = try #require(try await HTTP.send("POST", server.api + "/playlists", json: ["title": "Secret"], token: owner).string("id"))
            _ = try await HTTP.send("POST", server.api + "/playlists/\(id)/tracks", json: ["trackId": track], token: owner)

            #expect(try await HTTP.send("GET", server.api + "/playlists/\(id)", token: stranger).errorCode == "playlist_not_found")
            #expect(try await HTTP.send("GET", server.api + "/playlists/\(id)/tracks", token: stranger).status == 404)
            #expect(try await HTTP.send("DELETE", server.api + "/playlists/\(id)", token: stranger).status == 404)

            #expect(
                try await HTTP.send("PATCH", server.api + "/playlists/\(id)", json: ["isPublic": true], token: owner).json["isPublic"] as? Bool
                    == true)
            #expect(try await HTTP.send("GET", server.api + "/playlists/\(id)", token: stranger).status == 200)
            #expect((try await HTTP.send("GET", server.api + "/playlists/\(id)/tracks", token: stranger).json["items"] as? [Any])?.count == 1)
            #expect(try await HTTP.send("POST", server.api + "/playlists/\(id)/tracks", json: ["trackId": track], token: stranger).status == 403)
            #expect(try await HTTP.send("PATCH", server.api + "/playlists/\(id)", json: ["title": "Mine"], token: stranger).status == 403)
            #expect(try await HTTP.send("DELETE", server.api + "/playlists/\(id)", token: stranger).status == 403)

            let listed = try await HTTP.send("GET", server.api + "/playlists", token: stranger)
            #expect((listed.json["items"] as? [Any])?.isEmpty == true)
            #expect(try await HTTP.send("DELETE", server.api + "/playlists/\(id)", token: owner).status == 200)
        }
    }
}

@Suite("Errors are JSON with stable codes, never 500s for bad input", .timeLimit(.minutes(5)))
struct ErrorTests {
    @Test("malformed bodies, wrong types, missing fields, oversize bodies, unknown routes and ids")
    func badInput() async throws {
        try await withServer { server in
            let (token, _) = try await Client(server: server).register()
            func post(_ raw: String) async throws -> HTTPResult {
                try await HTTP.send(
                    "POST", server.api + "/artists", body: Data(raw.utf8), token: token, headers: ["Content-Type": "application/json"])
            }
            let cases: [(String, Int, String)] = [
                ("{not json", 400, "invalid_body"),
                ("", 400, "missing_body"),
                ("[]", 400, "invalid_body"),
                (#"{"name": 42}"#, 400, "invalid_body"),
                (#"{"bio": "no name"}"#, 400, "invalid_body"),
                (#"{"name": null}"#, 400, "invalid_body"),
                (#"{"name": "\u0007bell"}"#, 400, "invalid_name"),
                (#"{"name": "x", "country": 1}"#, 400, "invalid_body"),
            ]
            for (body, status, code) in cases {
                let result = try await post(body)
                #expect(result.status == status, "\(body)")
                #expect(result.errorCode == code, "\(body)")
                #expect(result.headers["content-type"]?.hasPrefix("application/json") == true)
                let error = result.json["error"] as? [String: Any]
                #expect((error?["message"] as? String)?.isEmpty == false)
            }
            let missing = try await post(#"{"bio": "no name"}"#)
            #expect(((missing.json["error"] as? [String: Any])?["message"] as? String)?.contains("name") == true)

            let huge = try await post(#"{"name": ""# + String(repeating: "a", count: 2 << 20) + #""}"#)
            #expect(huge.status == 413)
            #expect(huge.errorCode == "body_too_large")

            let route = try await HTTP.send("GET", server.api + "/nothing-here", token: token)
            #expect(route.status == 404)
            #expect(route.errorCode == "not_found")
            #expect(try await HTTP.send("GET", server.baseURL + "/definitely/not/here").errorCode == "not_found")
            #expect(try await HTTP.send("GET", server.api + "/albums/123", token: token).errorCode == "invalid_id")
            #expect(try await HTTP.send("GET", server.api + "/albums/\(UUID().uuidString)", token: token).errorCode == "album_not_found")
        }
    }

    @Test("health and readiness")
    func health() async throws {
        try await withServer { (server: TestServer) async throws -> Void in
            #expect(try await HTTP.send("GET", server.baseURL + "/health").string("status") == "ok")
            #expect(try await HTTP.send("GET", server.baseURL + "/ready").string("status") == "ready")
        }
    }
}

@Suite("HTTP validators on API reads", .timeLimit(.minutes(5)))
struct ValidatorTests {
    @Test("GETs carry an ETag; If-None-Match answers 304 until the resource changes")
    func conditionalGets() async throws {
        try await withServer { server in
            let (token, _) = try await Client(server: server).register()
            let (artist, _) = try await Client(server: server).artistAndAlbum(token)
            let url = server.api + "/artists/\(artist)"
            let first = try await HTTP.send("GET", url, token: token)
            let etag = try #require(first.headers["etag"])
            #expect(first.headers["cache-control"] == "private, no-cache")
            let again = try await HTTP.send("GET", url, token: token)
            #expect(again.headers["etag"] == etag)  // same bytes, same tag
            let unchanged = try await HTTP.send("GET", url, token: token, headers: ["If-None-Match": etag])
            #expect(unchanged.status == 304)
            #expect(unchanged.body.isEmpty)
            #expect(try await HTTP.send("PATCH", url, json: ["bio": "Changed"], token: token).status == 200)
            let changed = try await HTTP.send("GET", url, token: token, headers: ["If-None-Match": etag])
            #expect(changed.status == 200)
            #expect(changed.headers["etag"] != etag)
            // Errors are never cached or tagged.
            let missing = try await HTTP.send("GET", server.api + "/artists/\(UUID().uuidString)", token: token)
            #expect(missing.headers["etag"] == nil)
            #expect(missing.headers["cache-control"] == "no-store")
        }
    }
}
