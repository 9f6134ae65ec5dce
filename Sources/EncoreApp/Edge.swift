import EncoreBlobs
import EncoreCore
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The nginx configuration of Encore's caching edge (`encore edge-config`): nginx in front of the media
/// origin caches media objects once for every listener (keyed without the token), cuts byte ranges from
/// its cache, and admits a request only when Encore's media token allows it.
///
/// Tokens are checked by an `auth_request` to the origin's `/edge/authorize`, whose yes nginx caches per
/// token, method and folder for the rest of the token's life: one cheap check per listener and folder,
/// not one per segment, and Encore stays the only authority on its token format, scopes and error codes.
/// (nginx's `secure_link` could check a token with no origin call at all, but only an MD5 of a fixed
/// string, without scopes or methods, with the secret in nginx's configuration.)
public struct EdgeConfiguration: Sendable {
    /// `address:port` nginx listens on.
    public var listen: String = "127.0.0.1:8081"
    /// Encore's media origin (or a whole Encore), `http://host:port`.
    public var origin: String = "http://127.0.0.1:8080"
    /// An existing directory; the caches go in `media/` and `auth/` below it.
    public var cacheDirectory: String = "/var/cache/encore-edge"
    /// Disk budget of the object cache, in nginx's notation (`10g`).
    public var cacheSize: String = "10g"
    /// `worker_processes`: a number or `auto`.
    public var workers: String = "auto"
    /// The user nginx's workers run as; they must be able to write the cache directory.
    public var user: String = "www-data"

    public init() {}

    /// The whole `nginx.conf`, to run with `nginx -p PREFIX -c FILE`: every path it writes (pid, logs,
    /// temporary files) is under the prefix, except the caches.
    public func render() throws -> String {
        guard let url = Bundle.module.url(forResource: "edge-nginx", withExtension: "conf.template"),
            let template = try? String(contentsOf: url, encoding: .utf8)
        else { throw ConfigurationError("the edge configuration template is missing from the installation") }
        let values = [
            "LISTEN": listen, "ORIGIN": origin.hasSuffix("/") ? String(origin.dropLast()) : origin, "CACHE_DIR": cacheDirectory,
            "CACHE_SIZE": cacheSize, "WORKERS": workers, "USER": user,
        ]
        for (name, value) in values where value.contains(where: { $0 == ";" || $0 == "{" || $0 == "}" || $0.isNewline }) {
            throw ConfigurationError("\(name.lowercased()) cannot contain ; { } or line breaks: \(value)")
        }
        guard let parsed = URL(string: values["ORIGIN"]!), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil,
            parsed.path.isEmpty, parsed.query == nil
        else {
            throw ConfigurationError("the origin must be an http(s) URL without a path (http://host:port), not \(origin)")
        }
        return values.reduce(template) { text, entry in text.replacingOccurrences(of: "{{\(entry.key)}}", with: entry.value) }
    }
}

/// Pre-fetches the most-played tracks' playlists and first segments into the edge (`encore edge warm`),
/// as a CDN is pre-warmed before a release: the first listeners then start from the edge's cache.
public struct EdgeWarmer: Sendable {
    public struct Report: Sendable {
        public var tracks = 0
        public var objects = 0
        public var bytes = 0
        /// Objects the edge already had (`X-Cache-Status: HIT`).
        public var alreadyCached = 0
        public var failures: [String] = []
    }

    let system: EncoreSystem
    /// The edge's base URL, `http://host:port`.
    let edge: String
    /// Media segments fetched per variant, after its init segment.
    let segments: Int
    let session: URLSession

    public init(system: EncoreSystem, edge: String, segments: Int = 2) {
        self.system = system
        self.edge = edge.hasSuffix("/") ? String(edge.dropLast()) : edge
        self.segments = segments
        session = URLSession(configuration: .ephemeral)
    }

    /// Warms the `top` most-played ready tracks; `progress` hears about each track as it is done.
    public func warm(top: Int, progress: @Sendable (String) -> Void = { _ in }) async throws -> Report {
        var report = Report()
        var tracks: [Track] = []
        var offset = 0
        while tracks.count < top {
            let page = try await system.store.browse.tracks(
                .mostPlayed, page: try PageRequest(limit: min(top - tracks.count, PageRequest.maxLimit), offset: offset))
            tracks += page.items
            guard let next = page.nextOffset else { break }
            offset = next
        }
        let signer = MediaURLSigner(secret: system.keys.mediaURLs)
        for track in tracks {
            guard let media = track.media else { continue }
            let token = signer.token(for: MediaGrant(access: .read, scope: media.prefix, expiresAt: Date().addingTimeInterval(600)))
            let before = report.objects
            var playlists = [media.hlsMaster] + media.renditions.map(\.playlist)
            playlists.append(media.dashManifest)
            for playlist in playlists {
                guard let text = await fetch(playlist, token: token, report: &report).flatMap({ String(data: $0, encoding: .utf8) }) else { continue }
                guard playlist.pathExtension == "m3u8", playlist != media.hlsMaster else { continue }
                for segment in Self.firstSegments(of: text, count: segments) {
                    guard let key = playlist.sibling(segment) else { continue }
                    _ = await fetch(key, token: token, report: &report)
                }
            }
            report.tracks += 1
            progress("\(track.id.uuidString.lowercased()) \(track.title): \(report.objects - before) objects")
        }
        return report
    }

    /// The init segment and the first `count` media segments a media playlist names.
    static func firstSegments(of playlist: String, count: Int) -> [String] {
        var names: [String] = []
        var media = 0
        for line in playlist.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("#EXT-X-MAP:"), let start = line.range(of: "URI=\"") {
                let rest = line[start.upperBound...]
                if let end = rest.firstIndex(of: "\"") { names.append(String(rest[..<end])) }
            } else if !line.hasPrefix("#"), !line.isEmpty, media < count {
                names.append(String(line))
                media += 1
            }
        }
        return names
    }

    private func fetch(_ key: BlobKey, token: String, report: inout Report) async -> Data? {
        guard let url = URL(string: "\(edge)/media/\(token)/\(key.rawValue)") else { return nil }
        do {
            let (data, response) = try await session.data(from: url)
            guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
                report.failures.append("\(key): HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)")
                return nil
            }
            report.objects += 1
            report.bytes += data.count
            if (http.value(forHTTPHeaderField: "X-Cache-Status") ?? "") == "HIT" { report.alreadyCached += 1 }
            return data
        } catch {
            report.failures.append("\(key): \(error.localizedDescription)")
            return nil
        }
    }
}

extension BlobKey {
    /// The key of `name` next to this one (a relative reference from a playlist), when it is a plain name.
    func sibling(_ name: String) -> BlobKey? {
        guard !name.contains("://"), !name.hasPrefix("/") else { return nil }
        return parent?.appending(name)
    }
}
