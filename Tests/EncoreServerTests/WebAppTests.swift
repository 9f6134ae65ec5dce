import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import EncoreServer

@Suite("Web app serving")
struct WebAppTests {
    /// A small app in a temporary directory, the way the build ships `WebApp/`.
    func assets() throws -> (WebAppAssets, String) {
        let directory = try temporaryDirectory("encore-webapp")
        try FileManager.default.createDirectory(atPath: directory + "/js", withIntermediateDirectories: true)
        try #"<link rel="stylesheet" href="{{BASE}}/app.css"><script type="module" src="{{BASE}}/js/main.js"></script>"#
            .write(toFile: directory + "/index.html", atomically: true, encoding: .utf8)
        try "body { margin: 0 }".write(toFile: directory + "/app.css", atomically: true, encoding: .utf8)
        try #"import { x } from "./x.js";"#.write(toFile: directory + "/js/main.js", atomically: true, encoding: .utf8)
        try "secret".write(toFile: directory + "/.hidden", atomically: true, encoding: .utf8)
        return (try WebAppAssets(directory: URL(fileURLWithPath: directory)), directory)
    }

    @Test("the page names its assets by the build's version; assets are immutable; nothing else is served")
    func versions() throws {
        let (assets, directory) = try assets()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let page = String(buffer: assets.index.body)
        #expect(page.contains("/app/\(assets.version)/js/main.js"))
        #expect(!page.contains("{{BASE}}"))
        #expect(assets.version.count == 12)
        #expect(Set(assets.files.keys) == ["app.css", "js/main.js"])  // no index twice, no hidden files
        #expect(assets.files["js/main.js"]?.contentType == "text/javascript; charset=utf-8")
        // Any change to any file changes the version.
        try "body { margin: 1px }".write(toFile: directory + "/app.css", atomically: true, encoding: .utf8)
        #expect(try WebAppAssets(directory: URL(fileURLWithPath: directory)).version != assets.version)
    }

    @Test("a strict Content-Security-Policy: own scripts, styles and media only, no framing")
    func policy() {
        let policy = WebAppAssets.contentSecurityPolicy
        for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"] {
            #expect(policy.contains(directive), "\(directive)")
        }
        #expect(!policy.contains("unsafe"))
    }
}

@Suite("Web app routes", .timeLimit(.minutes(1)))
struct WebAppRouteTests {
    @Test("/ is the page with its policy; files under the version are cached for good; revalidation answers 304")
    func routes() async throws {
        let assets = try #require(WebAppAssets.bundled, "this build ships the web app")
        let client = await RouterClient()
        let page = try await client.send(.get, "/")
        #expect(page.status == 200)
        #expect(page.headers[.contentType] == "text/html; charset=utf-8")
        // Signed media URLs name the public URL's origin: the policy admits it for media, images and uploads.
        #expect(page.headers[.contentSecurityPolicy] == WebAppAssets.policy(mediaOrigin: "http://encore.test"))
        #expect(WebAppAssets.policy(mediaOrigin: "https://media.example:8443").contains("media-src 'self' blob: https://media.example:8443;"))
        #expect(WebAppAssets.origin(of: "https://music.example.com/base") == "https://music.example.com")
        #expect(WebAppAssets.origin(of: "javascript:alert(1)") == nil)
        #expect(page.headers[.cacheControl] == "no-cache")
        #expect(page.body.contains("/app/\(assets.version)/js/main.js"))
        let etag = try #require(page.headers[.eTag])
        var revalidate = HTTPFields()
        revalidate[.ifNoneMatch] = etag
        #expect(try await client.send(.get, "/", headers: revalidate).status == 304)

        let script = try await client.send(.get, "/app/\(assets.version)/js/main.js")
        #expect(script.status == 200)
        #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
        #expect(script.headers[.cacheControl] == "public, max-age=31536000, immutable")
        #expect(try await client.send(.get, "/app/000000000000/js/main.js").status == 404)  // another build's
        #expect(try await client.send(.get, "/app/\(assets.version)/../openapi.json").status == 404)
        #expect(try await client.send(.get, "/app/\(assets.version)/index.html").status == 404)
    }
}
