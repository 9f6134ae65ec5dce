import EncoreApp
import Foundation
import Testing

@Suite("Metrics: /metrics in Prometheus text, from this process's own registry", .timeLimit(.minutes(3)))
struct MetricsTests {
    /// The value of the series whose line starts with `series` (name and labels as Prometheus prints them).
    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test("requests by route and status, latency histograms, the job queue, transcode time, cache hits and write waits")
    func scrape() async throws {
        let audio = try AudioFixtures.make(seconds: 2, format: "wav")
        try await withServer { server in
            let client = Client(server: server)
            let (token, _) = try await client.register()
            let (_, album) = try await client.artistAndAlbum(token)
            let id = try #require(try await client.readyTrack(audio, album: album, token: token)["id"] as? String)
            for _ in 0..<3 { _ = try await HTTP.send("GET", server.api + "/tracks/\(id)", token: token) }
            _ = try await HTTP.send("GET", server.api + "/tracks/\(UUID().uuidString)", token: token)

            let scrape = try await HTTP.send("GET", server.baseURL + "/metrics")
            #expect(scrape.status == 200)
            #expect(scrape.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(decoding: scrape.body, as: UTF8.self)
            // Routes are patterns, never ids.
            #expect(!text.contains(id))
            let ok = #"encore_http_requests_total{route="/api/v1/tracks/{id}",method="GET",status="200"}"#
            let missing = #"encore_http_requests_total{route="/api/v1/tracks/{id}",method="GET",status="404"}"#
            #expect((Self.value(text, ok) ?? 0) >= 3, "\(text.prefix(3000))")
            #expect(Self.value(text, missing) == 1)
            #expect(text.contains(#"encore_http_request_duration_seconds_bucket{route="/api/v1/tracks/{id}",method="GET",status="200",le="#))
            #expect(Self.value(text, #"encore_jobs{state="due"}"#) == 0)
            #expect(Self.value(text, #"encore_jobs{state="dead"}"#) == 0)
            #expect(Self.value(text, "encore_job_oldest_due_seconds") == 0)
            #expect(Self.value(text, "encore_transcode_seconds_count") == 1)
            #expect((Self.value(text, #"encore_cache_requests_total{cache="catalog",result="hit"}"#) ?? 0) > 0)
            #expect((Self.value(text, "encore_database_write_wait_seconds_count") ?? 0) > 0)
        }
    }
}
