import Foundation
import Testing

@Suite("GET /api/v1/search", .timeLimit(.minutes(5)))
struct SearchAPITests {
    @Test("finds through typos and accents, hydrates results, marks playability, forgets deleted tracks")
    func search() async throws {
        let audio = try AudioFixtures.make(seconds: 1, format: "wav")
        try await withServer { server in
            let client = Client(server: server)
            let (token, _) = try await client.register()
            let (artist, album) = try await client.artistAndAlbum(token)  // Sigur Rós, Ágætis byrjun
            let ready = try await client.readyTrack(audio, album: album, token: token, title: "Starálfur")
            let readyId = try #require(ready["id"] as? String)
            let (listener, _) = try await client.register(role: "listener")

            let result = try await HTTP.send("GET", server.api + "/search?q=sigur%20ros%20staralfr", token: listener)
            #expect(result.status == 200)
            let tracks = try #require(result.json["tracks"] as? [[String: Any]])
            #expect((tracks.first?["id"] as? String)?.lowercased() == readyId.lowercased())
            #expect(tracks.first?["playable"] as? Bool == true)
            #expect(tracks.first?["artistName"] as? String == "Sigur Rós")
            #expect(tracks.first?["albumTitle"] as? String == "Ágætis byrjun")
            #expect(tracks.first?["score"] is Double)

            let artists = try await HTTP.send("GET", server.api + "/search?q=sigur&types=artist", token: listener)
            #expect((artists.json["artists"] as? [[String: Any]])?.first?["id"] as? String == artist)
            #expect((artists.json["tracks"] as? [Any])?.isEmpty == true)
            #expect((artists.json["top"] as? [String: Any])?["type"] as? String == "artist")

            // A private playlist holding the track: its title's words neither find the track nor surface the
            // playlist, for its owner or anyone else. The track alone still matches, so the empty answers are
            // about the title, not a search that finds nothing at all.
            let playlist = try await HTTP.send("POST", server.api + "/playlists", json: ["title": "Secret Starálfur Mix"], token: token)
            #expect(playlist.status == 201)
            #expect(playlist.json["isPublic"] as? Bool == false)
            let playlistId = try #require(playlist.string("id"))
            let added = try await HTTP.send("POST", server.api + "/playlists/\(playlistId)/tracks", json: ["trackId": readyId], token: token)
            #expect(added.status == 200)
            for caller in [listener, token] {
                let titled = try await HTTP.send("GET", server.api + "/search?q=secret%20staralfur%20mix", token: caller)
                #expect(titled.status == 200)
                for kind in ["artists", "albums", "tracks"] {
                    #expect((titled.json[kind] as? [Any])?.isEmpty == true, "\(kind): \(String(decoding: titled.body, as: UTF8.self))")
                }
                #expect(titled.json["top"] == nil || titled.json["top"] is NSNull)
                let body = String(decoding: titled.body, as: UTF8.self).lowercased()
                #expect(!body.contains(playlistId.lowercased()), "the playlist's id is in \(body)")
                #expect(Set(titled.json.keys).isSubset(of: ["query", "top", "artists", "albums", "tracks"]), "\(body)")
                let alone = try await HTTP.send("GET", server.api + "/search?q=staralfur", token: caller)
                #expect((alone.json["tracks"] as? [[String: Any]])?.compactMap { ($0["id"] as? String)?.lowercased() } == [readyId.lowercased()])
            }

            // A deleted track disappears from search at once.
            #expect(try await HTTP.send("DELETE", server.api + "/tracks/\(readyId)", token: token).status == 200)
            let gone = try await HTTP.send("GET", server.api + "/search?q=staralfur", token: listener)
            #expect(gone.status == 200)
            #expect((gone.json["tracks"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("bad requests: empty or long queries, limits, types, no token")
    func validation() async throws {
        try await withServer { server in
            let (token, _) = try await Client(server: server).register(role: "listener")
            let long = String(repeating: "a", count: 201)
            let cases: [(String, String)] = [
                ("", "empty_query"), ("q=", "empty_query"), ("q=%20%20", "empty_query"), ("q=\(long)", "query_too_long"),
                ("q=a&limit=51", "invalid_limit"), ("q=a&limit=x", "invalid_limit"), ("q=a&types=song", "invalid_types"),
                ("q=a&offset=-1", "invalid_offset"),
            ]
            for (query, code) in cases {
                let result = try await HTTP.send("GET", server.api + "/search?\(query)", token: token)
                #expect(result.status == 400, "\(query)")
                #expect(result.errorCode == code, "\(query)")
            }
            #expect(try await HTTP.send("GET", server.api + "/search?q=abba").status == 401)
        }
    }
}
