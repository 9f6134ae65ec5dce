import Crypto
import EncoreCore
import Foundation
import Hummingbird
import NIOCore

/// The web app (`WebApp/` next to this file, shipped as resources of the binary): read once, kept in
/// memory, and served at `/` with every other file under `/app/{version}/`, where the version is a hash
/// of all the files. A new build changes the version, so the files can be cached forever and the page
/// itself is revalidated on every load.
struct WebAppAssets: Sendable {
    struct Asset: Sendable {
        var body: ByteBuffer
        var contentType: String
        var etag: String
    }

    /// The page may run only its own scripts and styles and talk only to its own origin: no inline
    /// script or style, no plug-ins, no framing.
    static let contentSecurityPolicy = policy(mediaOrigin: nil)

    /// The policy, also admitting `mediaOrigin` for images, audio and uploads when signed media URLs name
    /// another origin than the page's (a configured public URL the browser reaches under another name).
    static func policy(mediaOrigin: String?) -> String {
        let media = mediaOrigin.map { " " + $0 } ?? ""
        return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:\(media); media-src 'self' blob:\(media); "
            + "connect-src 'self'\(media); font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    }

    /// `scheme://host[:port]` of a URL, or nil.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host,
            ["http", "https"].contains(scheme)
        else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }

    let version: String
    let index: Asset
    let files: [String: Asset]

    /// The assets of this build, or nil when it was built without the web app.
    static let bundled: WebAppAssets? = {
        guard let directory = Bundle.module.url(forResource: "WebApp", withExtension: nil) else { return nil }
        return try? WebAppAssets(directory: directory)
    }()

    init(directory: URL) throws {
        let root = directory.standardizedFileURL.path
        var contents: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = root + "/" + relative
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") })
            else { continue }
            contents[relative] = try Data(contentsOf: URL(fileURLWithPath: path))
        }
        guard let page = contents["index.html"] else { throw EncoreError(.internalError, "The web app has no index.html.") }
        var hasher = SHA256()
        for (path, data) in contents.sorted(by: { $0.key < $1.key }) {
            hasher.update(data: Data(path.utf8) + [0])
            hasher.update(data: data)
        }
        version = hasher.finalize().prefix(6).map { String(format: "%02x", $0) }.joined()
        func asset(_ data: Data, path: String) -> Asset {
            let etag = "\"" + SHA256.hash(data: data).prefix(8).map { String(format: "%02x", $0) }.joined() + "\""
            return Asset(body: ByteBuffer(bytes: data), contentType: Self.contentType(of: path), etag: etag)
        }
        let base = "/app/\(version)"
        index = asset(Data(String(decoding: page, as: UTF8.self).replacingOccurrences(of: "{{BASE}}", with: base).utf8), path: "index.html")
        files = contents.filter { $0.key != "index.html" }.mapValues { $0 }.reduce(into: [:]) { $0[$1.key] = asset($1.value, path: $1.key) }
    }

    static func contentType(of path: String) -> String {
        switch path.split(separator: ".").last?.lowercased() {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "json": "application/json; charset=utf-8"
        case "webmanifest": "application/manifest+json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "woff2": "font/woff2"
        default: "application/octet-stream"
        }
    }

    /// - Parameter publicBaseURL: where signed media URLs point; its origin is admitted by the page's policy.
    func addRoutes(to router: Router<EncoreRequestContext>, publicBaseURL: PublicBaseURL? = nil) {
        for path in ["/", "/index.html"] {
            router.get(RouterPath(path)) { request, _ in
                let policy = Self.policy(mediaOrigin: publicBaseURL.flatMap { Self.origin(of: $0.value) })
                return respond(index, to: request, cacheControl: "no-cache", policy: policy)
            }
        }
        router.get("/app/:version/**") { request, context in
            let path = context.parameters.getCatchAll().joined(separator: "/")
            // Another build's files are not kept: its page is revalidated and asks for this build's.
            guard context.parameters.get("version") == version, let asset = files[path] else {
                throw EncoreError(.notFound, "No such file of the web app.")
            }
            return respond(asset, to: request, cacheControl: "public, max-age=31536000, immutable", policy: nil)
        }
    }

    private func respond(_ asset: Asset, to request: Request, cacheControl: String, policy: String?) -> Response {
        var headers: HTTPFields = [
            .contentType: asset.contentType, .cacheControl: cacheControl, .eTag: asset.etag, .init("X-Content-Type-Options")!: "nosniff",
        ]
        if let policy {
            headers[.contentSecurityPolicy] = policy
            headers[.init("Referrer-Policy")!] = "no-referrer"
        }
        if request.headers[.ifNoneMatch] == asset.etag { return Response(status: .notModified, headers: headers) }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
    }
}
