import CoreMetrics
import EncoreCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Encore's own media origin for the local blob store: `GET`/`HEAD` of signed read URLs with RFC 9110
/// byte ranges and validators, and `PUT` of signed upload URLs streamed to disk.
///
/// Paths are `/media/{token}/{key}`. The token alone authorises the request, so serving a byte range
/// needs no database work at all.
struct MediaOrigin {
    let blobs: any MediaFileStore
    /// Small objects served from memory; larger ones are streamed from disk in chunks.
    let cache: MediaObjectCache
    let fileIO = FileIO(threadPool: .singleton)
    /// Whole objects sent by ``MediaSendfileHandler``, below the router's request metrics.
    var sendfileResponses: Counter = Counter(label: "encore_media_sendfile_responses_total", factory: NOOPMetricsHandler.instance)

    func addRoutes(to router: Router<EncoreRequestContext>) {
        router.get("/media/**") { request, context in try await serve(request, context: context, includeBody: true) }
        router.head("/media/**") { request, context in try await serve(request, context: context, includeBody: false) }
        router.put("/media/**") { request, context in try await upload(request, context: context) }
        router.get("/edge/authorize") { request, _ in try authorizeForEdge(request) }
    }

    /// The caching edge's `auth_request`: may the media request named by `X-Original-URI` and
    /// `X-Original-Method` be served? The answer is 200 or the token's refusal (403 with its code).
    ///
    /// A yes may be cached by the edge for the rest of the token's life and reused for every key in the
    /// same folder with the same token, but only when the token's scope covers that whole folder (the
    /// edge keys its cache by token and folder); otherwise it is `no-store`.
    func authorizeForEdge(_ request: Request) throws -> Response {
        guard let uri = request.headers[HTTPField.Name("X-Original-URI")!] else {
            throw EncoreError(.missingParameter, "X-Original-URI is required.")
        }
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
        let method = request.headers[HTTPField.Name("X-Original-Method")!] ?? "GET"
        let key: BlobKey
        let grant: MediaGrant
        do {
            (key, grant) = try authorise(path: path, method: method)
        } catch let error as EncoreError where error.kind != .forbidden {
            // auth_request passes on only 2xx, 401 and 403; anything else would reach the listener as
            // "origin unavailable". A path that names no object is refused as what it is.
            throw EncoreError(.outsideScope, "No token admits this path: \(error.message)")
        }
        let folder = key.parent
        // Two seconds short: nginx keeps an entry for the whole of its last second, and counts from the
        // moment the answer arrives by its own clock (the edge's clock must be kept by NTP).
        let remaining = grant.expiresAt - Int(Date().timeIntervalSince1970) - 2
        let coversFolder = folder.map { $0.isWithin(grant.scope) } ?? false
        return Response(
            status: .ok,
            headers: [.cacheControl: coversFolder && remaining > 0 ? "max-age=\(remaining)" : "no-store", .contentLength: "0"])
    }

    /// Splits `/media/{token}/{key}` and checks the token for this method and key.
    private func authorise(_ request: Request) throws -> (BlobKey, MediaGrant) {
        try authorise(path: request.uri.path, method: request.method.rawValue)
    }

    /// Splits `/media/{token}/{key}` and checks the token for `method` and the key.
    func authorise(path: String, method: String) throws -> (BlobKey, MediaGrant) {
        let bytes = path.utf8
        let prefix = "/media/".utf8
        // Keys use a plain alphabet, so any percent-escape (an encoded slash or dot) is an attempt at a trick.
        guard bytes.starts(with: prefix), !bytes.contains(UInt8(ascii: "%")) else {
            throw EncoreError(.invalidPath, "Media paths contain no escapes.")
        }
        let rest = bytes.dropFirst(prefix.count)
        guard let slash = rest.firstIndex(of: UInt8(ascii: "/")), let key = BlobKey(String(Substring(rest[bytes.index(after: slash)...]))) else {
            throw EncoreError(.objectNotFound, "No such object.")
        }
        let grant = try blobs.verify(token: String(Substring(rest[..<slash])), method: method, key: key, now: Date())
        return (key, grant)
    }

    /// The headers every successful media response carries.
    static func headers(for key: BlobKey, info: BlobInfo, lastModified: String, grant: MediaGrant) -> HTTPFields {
        [
            .acceptRanges: "bytes",
            .eTag: info.etag,
            .lastModified: lastModified,
            .contentType: AudioFormats.contentType(forExtension: key.pathExtension),
            // Cacheable by the browser for as long as the URL is valid, never by shared caches.
            .cacheControl: "private, max-age=\(max(0, grant.expiresAt - Int(Date().timeIntervalSince1970)))",
            // The token is the authorisation, so any page may read (a web app whose media is on another
            // host, ENCORE_MEDIA_URL, fetches segments for MSE).
            .accessControlAllowOrigin: "*",
            .accessControlExposeHeaders: "Content-Range, Content-Length, Accept-Ranges, ETag",
        ]
    }

    private func serve(_ request: Request, context: EncoreRequestContext, includeBody: Bool) async throws -> Response {
        let (key, grant) = try authorise(request)
        guard var info = try await blobs.info(key) else {
            throw EncoreError(.objectNotFound, "No such object.")
        }
        var encoding: String?
        let isPlaylist = key.isPlaylist
        // Playlists and manifests have gzip twins written by the pipeline: serve those when the client accepts gzip.
        if isPlaylist, Self.acceptsGzip(request.headers[.acceptEncoding]), let zipped = key.appendingSuffix(".gz"),
            let zippedInfo = try await blobs.info(zipped)
        {
            info = zippedInfo
            encoding = "gzip"
        }
        var cached = cache.object(matching: info)
        if cached == nil, includeBody, info.size <= cache.largestObject {
            cached = try await cache.load(info.key, from: blobs)
        }
        if let cached { info = cached.info }  // describe exactly the bytes that will be sent
        var headers = Self.headers(for: key, info: info, lastModified: cached?.lastModified ?? info.modifiedAt.httpDate, grant: grant)
        if let encoding { headers[.contentEncoding] = encoding }
        if isPlaylist { headers[.vary] = "Accept-Encoding" }
        if let tags = request.headers[.ifNoneMatch], Self.matches(tags, etag: info.etag) {
            return Response(status: .notModified, headers: headers)
        }
        // Ranges address the representation actually sent; for a compressed playlist that is not useful.
        var outcome = encoding == nil ? ByteRange.evaluate(request.headers[.range], size: info.size) : .full
        if let ifRange = request.headers[.ifRange], ifRange.trimmingHTTPWhitespace != info.etag {
            outcome = .full  // the client's partial copy is stale: send the whole current object
        }
        switch outcome {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(info.size)"
            headers[.contentType] = "application/json; charset=utf-8"
            let body = ErrorBody(
                error: .init(code: ErrorCode.rangeNotSatisfiable.rawValue, message: "The requested range is outside the object's \(info.size) bytes.")
            )
            return try APIJSON.response(body, status: .rangeNotSatisfiable, headers: headers)
        case .full:
            headers[.contentLength] = String(info.size)
            guard includeBody, info.size > 0 else { return Response(status: .ok, headers: headers, body: .init()) }
            if let cached { return Response(status: .ok, headers: headers, body: .init(byteBuffer: cached.bytes)) }
            return Response(status: .ok, headers: headers, body: try await body(of: info, range: nil, context: context))
        case .partial(let range):
            headers[.contentLength] = String(range.count)
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(info.size)"
            guard includeBody else { return Response(status: .partialContent, headers: headers, body: .init()) }
            if let cached, let slice = cached.bytes.getSlice(at: cached.bytes.readerIndex + range.lowerBound, length: range.count) {
                return Response(status: .partialContent, headers: headers, body: .init(byteBuffer: slice))
            }
            return Response(
                status: .partialContent, headers: headers,
                body: try await body(of: info, range: range, context: context))
        }
    }

    /// The bytes of `range` of the object: from its file when it has one, else relayed from the store a
    /// chunk at a time, so that a long progressive file costs one chunk of memory, not the whole file.
    private func body(of info: BlobInfo, range requested: ClosedRange<Int>?, context: EncoreRequestContext) async throws -> ResponseBody {
        if let path = blobs.localPath(of: info.key) {
            guard let requested else { return try await fileIO.loadFile(path: path, context: context) }
            return try await fileIO.loadFile(path: path, range: requested, context: context)
        }
        let range = requested.map { $0.lowerBound..<($0.upperBound + 1) } ?? 0..<info.size
        let blobs = self.blobs
        let chunk = Self.relayChunk
        // The first chunk is read before answering: a store that is down gives a JSON error, not a cut body.
        let first = try await blobs.read(info.key, range: range.lowerBound..<min(range.upperBound, range.lowerBound + chunk))
        guard !first.isEmpty else { throw EncoreError(.storageError, "\(info.key) is shorter than its \(info.size) bytes.") }
        return ResponseBody(contentLength: range.count) { writer in
            var offset = range.lowerBound
            var bytes = first
            while true {
                guard !bytes.isEmpty else { throw EncoreError(.storageError, "\(info.key) ended before its \(info.size) bytes.") }
                try await writer.write(ByteBuffer(bytes: bytes))
                offset += bytes.count
                guard offset < range.upperBound else { break }
                bytes = try await blobs.read(info.key, range: offset..<min(range.upperBound, offset + chunk))
            }
            try await writer.finish(nil)
        }
    }

    /// How much of a relayed object is read from the store at a time.
    static let relayChunk = 1 << 20

    private func upload(_ request: Request, context: EncoreRequestContext) async throws -> Response {
        let (key, grant) = try authorise(request)
        let tooLarge = EncoreError(.uploadTooLarge, "The upload exceeds the limit of \(grant.maxBytes) bytes.")
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > grant.maxBytes { throw tooLarge }
        let info = try await blobs.put(key, body: request.body, maxBytes: grant.maxBytes)
        context.logger.info("stored upload", metadata: ["key": "\(key)", "bytes": "\(info.size)"])
        return try APIJSON.response(UploadReceipt(size: info.size, etag: info.etag), status: .created, headers: [.eTag: info.etag])
    }

    /// True when `Accept-Encoding` lists gzip (or `*`) with a non-zero quality.
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        return header.lowercased().split(separator: ",").contains { item in
            let parts = item.split(separator: ";").map { $0.trimmingHTTPWhitespace }
            guard parts.first == "gzip" || parts.first == "*" else { return false }
            let quality = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return quality > 0
        }
    }

    /// RFC 9110 §13.1.2: `*` or a list of entity tags, compared weakly.
    static func matches(_ header: String, etag: String) -> Bool {
        let strip = { (tag: Substring) -> Substring in tag.hasPrefix("W/") ? tag.dropFirst(2) : tag }
        return header.split(separator: ",").map { $0.trimmingHTTPWhitespace }.contains {
            $0 == "*" || strip($0) == strip(Substring(etag))
        }
    }
}

/// What a successful upload `PUT` answers.
struct UploadReceipt: Codable, Sendable {
    var size: Int
    var etag: String
}

extension Date {
    /// IMF-fixdate, as HTTP headers want it (`Sun, 06 Nov 1994 08:49:37 GMT`). Written by hand: making a
    /// DateFormatter per response costs more than serving a small segment.
    var httpDate: String {
        var seconds = time_t(timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
