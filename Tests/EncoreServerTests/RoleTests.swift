import EncoreApp
import EncoreServer
import Foundation
import Testing

@Suite("Roles: one binary and one configuration, each process its own part", .timeLimit(.minutes(3)))
struct RoleTests {
    @Test("media, api and worker processes over one data directory play the designed flow between them")
    func tiers() async throws {
        let audio = try AudioFixtures.make(seconds: 2, format: "wav")
        try await withServer({ $0.role = .media }) { media in
            let shared = media.dataDirectory
            // The API process could not transcode if it tried: it must not try.
            try await withServer({
                $0.role = .api
                $0.dataDirectory = shared
                $0.mediaBaseURL = media.baseURL
                $0.ffmpegPath = "/nonexistent/ffmpeg"
                $0.workers = 2
            }) { api in
                try await withServer({
                    $0.role = .worker
                    $0.dataDirectory = shared
                }) { worker in
                    let client = Client(server: api)
                    let (token, _) = try await client.register()
                    let (_, album) = try await client.artistAndAlbum(token)
                    let track = try await client.readyTrack(audio, album: album, token: token)
                    #expect(track["status"] as? String == "ready", "processed by the worker process")
                    let workerMetrics = String(decoding: try await HTTP.send("GET", worker.baseURL + "/metrics").body, as: UTF8.self)
                    let apiMetrics = String(decoding: try await HTTP.send("GET", api.baseURL + "/metrics").body, as: UTF8.self)
                    #expect(MetricsTests.value(workerMetrics, "encore_transcode_seconds_count") == 1, "the worker transcoded")
                    #expect(MetricsTests.value(apiMetrics, "encore_transcode_seconds_count") == nil, "the API did not")
                    let id = try #require(track["id"] as? String)
                    let stream = try await HTTP.send("GET", api.api + "/tracks/\(id)/stream", token: token)
                    let original = try #require((stream.json["progressive"] as? [[String: Any]])?.first?["url"] as? String)
                    #expect(original.hasPrefix(media.baseURL + "/media/"), "media URLs name the media process")
                    #expect(try await HTTP.send("GET", original).body == audio)

                    // Each process answers its own routes only, and every one its health.
                    for server in [media, api, worker] {
                        #expect(try await HTTP.send("GET", server.baseURL + "/health").status == 200)
                        #expect(try await HTTP.send("GET", server.baseURL + "/ready").status == 200)
                        let metrics = try await HTTP.send("GET", server.baseURL + "/metrics")
                        #expect(metrics.status == 200 && String(decoding: metrics.body, as: UTF8.self).contains("encore_jobs{state=\"due\"}"))
                    }
                    let mediaPath = String(original[original.range(of: "/media/")!.lowerBound...])
                    #expect(try await HTTP.send("GET", api.baseURL + mediaPath).errorCode == "not_found")
                    #expect(try await HTTP.send("GET", worker.baseURL + mediaPath).errorCode == "not_found")
                    #expect(try await HTTP.send("GET", media.api + "/tracks/\(id)", token: token).errorCode == "not_found")
                    #expect(try await HTTP.send("GET", worker.api + "/tracks/\(id)", token: token).errorCode == "not_found")
                    #expect(try await HTTP.send("GET", media.baseURL + "/openapi.json").status == 404)
                    #expect(try await HTTP.send("GET", media.baseURL + "/rest/ping.view").status == 404)
                }
            }
        }
    }
}
