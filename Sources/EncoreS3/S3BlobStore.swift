import Crypto
import EncoreCore
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// ``BlobStore`` on any S3 API (AWS S3, SeaweedFS, Ceph RGW, Cloudflare R2, MinIO), path-style, signed
/// with SigV4. Objects live under an optional root prefix of one bucket.
///
/// Where S3 differs from a directory, as explicit choices:
/// - write-once: a `HEAD` first, and `If-None-Match: *` on the write for stores that honour it (AWS does),
///   so two writers racing for one key cannot both win there;
/// - `move` is a copy then a delete: not atomic, but every caller moves objects it alone knows about
///   (an upload into its track's folder), and a crash between the two leaves a copy, never a loss;
/// - a pre-signed `PUT` cannot carry an upper size limit, so the limit is checked when the upload is
///   attached (`POST /tracks` answers `upload_too_large`);
/// - a pre-signed `GET` covers one key, not a prefix: `scope` is ignored.
public struct S3BlobStore: BlobStore {
    public struct Configuration: Sendable {
        /// Where Encore reaches the S3 API: `http(s)://host[:port]`.
        public var endpoint: String
        /// Where clients reach it, for pre-signed URLs (a public host name in front of a private one).
        public var publicEndpoint: String
        public var region: String
        public var bucket: String
        /// Keys are stored as `root/key` when set.
        public var root: String
        public var credentials: SigV4Signer.Credentials
        /// Files at least this large go up in parts.
        public var multipartThreshold: Int
        public var partSize: Int

        public init(
            endpoint: String, publicEndpoint: String? = nil, region: String, bucket: String, root: String = "",
            credentials: SigV4Signer.Credentials, multipartThreshold: Int = 64 << 20, partSize: Int = 16 << 20
        ) {
            func withoutSlash(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
            self.endpoint = withoutSlash(endpoint)
            self.publicEndpoint = withoutSlash(publicEndpoint ?? endpoint)
            self.region = region
            self.bucket = bucket
            self.root = root.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            self.credentials = credentials
            self.multipartThreshold = multipartThreshold
            self.partSize = max(partSize, 5 << 20)  // S3's smallest part (but the last)
        }
    }

    let configuration: Configuration
    let signer: SigV4Signer
    let session: URLSession
    let now: @Sendable () -> Date
    /// The last bucket probe: when, and what it found (see ``checkWritable()``).
    private let probe = ProbeMemo()

    public init(_ configuration: Configuration, now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        // Idle time allowed within one request: a store that stops answering fails the request (and the
        // client's, as a retryable 503) in seconds rather than holding it.
        sessionConfiguration.timeoutIntervalForRequest = 10
        session = URLSession(configuration: sessionConfiguration)
        self.now = now
    }

    // MARK: Objects

    public func putFile(_ key: BlobKey, from path: String) async throws -> BlobInfo {
        guard try await info(key) == nil else { throw Self.exists(key) }
        let size = try (FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        if size >= configuration.multipartThreshold {
            try await multipartUpload(key, from: path)
        } else {
            let response = try await send(
                "PUT", objectPath(key), headers: [("If-None-Match", "*"), ("Content-Type", Self.contentType(key))],
                payloadHash: try Self.fileHash(path),
                body: .file(URL(fileURLWithPath: path)))
            if response.status == 412 { throw Self.exists(key) }
            try check(response, "PUT \(key)")
        }
        guard let stored = try await info(key) else { throw EncoreError(.storageError, "S3 lost \(key) right after storing it.") }
        return stored
    }

    public func fetch(_ key: BlobKey, to path: String) async throws {
        let (file, status) = try await download(objectPath(key))
        defer { try? FileManager.default.removeItem(at: file) }
        if status == 404 { throw Self.missing(key) }
        guard (200..<300).contains(status) else {
            throw Self.failure(status: status, body: (try? Data(contentsOf: file)) ?? Data(), what: "GET \(key)")
        }
        try FileManager.default.moveItem(at: file, to: URL(fileURLWithPath: path))
    }

    public func read(_ key: BlobKey, range: Range<Int>) async throws -> Data {
        guard !range.isEmpty else { return Data() }
        let response = try await send("GET", objectPath(key), headers: [("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")])
        switch response.status {
        case 404: throw Self.missing(key)
        case 416: return Data()  // the range starts past the end
        case 206: return response.body
        // A store that ignores Range sends everything: cut it here.
        case 200: return response.body.subdata(in: min(range.lowerBound, response.body.count)..<min(range.upperBound, response.body.count))
        default: throw Self.failure(status: response.status, body: response.body, what: "GET \(key)")
        }
    }

    public func copy(_ source: BlobKey, to destination: BlobKey) async throws {
        guard try await info(source) != nil else { throw Self.missing(source) }
        guard try await info(destination) == nil else { throw Self.exists(destination) }
        // The uploader chose the source's Content-Type (a pre-signed PUT signs only the host): the copy
        // gets the type its name says, so a listener is never served an upload labelled text/html.
        // A server-side copy of gigabytes takes a while on some stores: more than the usual idle timeout.
        let response = try await send(
            "PUT", objectPath(destination),
            headers: [
                ("x-amz-copy-source", SigV4Signer.encodePath("/\(configuration.bucket)/\(storedKey(source))")), ("If-None-Match", "*"),
                ("x-amz-metadata-directive", "REPLACE"), ("Content-Type", Self.contentType(destination)),
            ], timeout: 600)
        if response.status == 404 { throw Self.missing(source) }
        if response.status == 412 { throw Self.exists(destination) }
        try check(response, "COPY \(source) → \(destination)")
        // S3 can answer 200 with an error in the body for a copy that failed late.
        if String(decoding: response.body, as: UTF8.self).contains("<Error>") {
            throw Self.failure(status: 500, body: response.body, what: "COPY \(source)")
        }
    }

    public func info(_ key: BlobKey) async throws -> BlobInfo? {
        let response = try await send("HEAD", objectPath(key))
        if response.status == 404 { return nil }
        try check(response, "HEAD \(key)")
        let size = Int(response.header("Content-Length") ?? "") ?? 0
        let etag = response.header("ETag") ?? ""
        let modified = response.header("Last-Modified").flatMap(Self.httpDate) ?? Date(timeIntervalSince1970: 0)
        return BlobInfo(key: key, size: size, etag: etag, modifiedAt: modified)
    }

    /// A copy then a delete, after claiming the source with a write-once marker: of two requests moving
    /// the same upload at once only one gets it (the other finds it "moved already"), as with a rename.
    /// A crash between claim and delete leaves the upload claimed, never in two places.
    public func move(_ source: BlobKey, to destination: BlobKey) async throws {
        guard try await info(source) != nil else { throw Self.missing(source) }
        let claim = "/\(configuration.bucket)/\(storedKey(source)).moving"
        let claimed = try await send("PUT", claim, headers: [("If-None-Match", "*")], body: .data(Data()))
        if claimed.status == 412 { throw Self.missing(source) }
        try check(claimed, "CLAIM \(source)")
        do {
            try await copy(source, to: destination)
        } catch {
            _ = try? await send("DELETE", claim)
            throw error
        }
        try await delete(source)
        _ = try? await send("DELETE", claim)
    }

    public func delete(_ key: BlobKey) async throws {
        let response = try await send("DELETE", objectPath(key))
        if response.status == 404 { return }
        try check(response, "DELETE \(key)")
    }

    public func deleteAll(under prefix: BlobKey) async throws {
        for key in try await list(under: prefix) { try await delete(key) }
    }

    public func list(under prefix: BlobKey) async throws -> [BlobKey] {
        var keys: [BlobKey] = []
        if try await info(prefix) != nil { keys.append(prefix) }  // "at or below"
        let listed = storedKey(prefix) + "/"
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", listed)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send("GET", "/\(configuration.bucket)", query: query)
            try check(response, "LIST \(prefix)")
            let page = ListingParser.parse(response.body)
            keys += page.keys.compactMap(domainKey)
            token = page.truncated ? page.nextToken : nil
        } while token != nil
        return keys.sorted()
    }

    /// A `HEAD` of the bucket, remembered for a moment: upload and stream grants call this so that they
    /// fail fast (503, retryable) while the store is down, at the cost of one probe per second or two.
    public func checkWritable() async throws {
        let time = now()
        if let remembered = probe.fresh(at: time) {
            if let failure = remembered { throw failure }
            return
        }
        do {
            let response = try await send("HEAD", "/\(configuration.bucket)", timeout: 3)
            guard (200..<300).contains(response.status) else {
                throw EncoreError(
                    .storageUnavailable, "The bucket \(configuration.bucket) cannot be reached (HTTP \(response.status)).", retryAfter: 5)
            }
            probe.remember(nil, at: time, for: 2)
        } catch let error as EncoreError {
            probe.remember(error, at: time, for: 1)
            throw error
        }
    }

    public func signedUploadURL(for key: BlobKey, maxBytes: Int, exactBytes: Int?, expiresAt: Date) throws -> String {
        // With a declared size, the Content-Length is signed: S3 refuses any other body length.
        presigned("PUT", key, expiresAt: expiresAt, signedHeaders: exactBytes.map { [("content-length", String($0))] } ?? [])
    }

    public func signedReadURL(for key: BlobKey, scope: BlobKey, expiresAt: Date) throws -> String {
        presigned("GET", key, expiresAt: expiresAt)
    }

    private func presigned(_ method: String, _ key: BlobKey, expiresAt: Date, signedHeaders: [(String, String)] = []) -> String {
        // Signed as of the start of the UTC day (S3 accepts a request from the signing date until it expires,
        // at most 7 days later): URLs with the same expiry are the same all day, so covers and the like
        // stay cacheable, as Encore's own media URLs are.
        let current = now().timeIntervalSince1970
        let dayStart = (current / 86_400).rounded(.down) * 86_400
        let date = Date(timeIntervalSince1970: max(dayStart, expiresAt.timeIntervalSince1970 - 604_799))
        let base = configuration.publicEndpoint
        let host = URL(string: base).map(Self.hostHeader) ?? ""
        return signer.presignedURL(
            method: method, base: base, path: objectPath(key), host: host, signedHeaders: signedHeaders,
            lifetime: Int(expiresAt.timeIntervalSince(date).rounded(.up)), at: date)
    }

    // MARK: Multipart

    private func multipartUpload(_ key: BlobKey, from file: String) async throws {
        let path = objectPath(key)
        let created = try await send("POST", path, query: [("uploads", "")], headers: [("Content-Type", Self.contentType(key))])
        try check(created, "CREATE MULTIPART \(key)")
        guard let uploadId = ListingParser.value(of: "UploadId", in: created.body) else {
            throw EncoreError(.storageError, "S3 gave no UploadId for \(key).")
        }
        do {
            guard let handle = FileHandle(forReadingAtPath: file) else { throw EncoreError(.storageError, "Cannot read \(file).") }
            defer { try? handle.close() }
            var parts: [(number: Int, etag: String)] = []
            // One part in memory at a time: a multi-gigabyte upload costs one part's worth.
            while let chunk = try handle.read(upToCount: configuration.partSize), !chunk.isEmpty {
                let number = parts.count + 1
                let reply = try await send("PUT", path, query: [("partNumber", String(number)), ("uploadId", uploadId)], body: .data(chunk))
                try check(reply, "PART \(number) of \(key)")
                parts.append((number, reply.header("ETag") ?? ""))
            }
            let manifest =
                "<CompleteMultipartUpload>"
                + parts.map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(Self.escapeXML($0.etag))</ETag></Part>" }.joined()
                + "</CompleteMultipartUpload>"
            let done = try await send(
                "POST", path, query: [("uploadId", uploadId)], headers: [("If-None-Match", "*")], body: .data(Data(manifest.utf8)))
            if done.status == 412 { throw Self.exists(key) }
            try check(done, "COMPLETE MULTIPART \(key)")
            if String(decoding: done.body, as: UTF8.self).contains("<Error>") {
                throw Self.failure(status: 500, body: done.body, what: "COMPLETE MULTIPART \(key)")
            }
        } catch {
            // Parts of an abandoned upload cost storage until aborted.
            _ = try? await send("DELETE", path, query: [("uploadId", uploadId)])
            throw error
        }
    }

    static func escapeXML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    // MARK: Requests

    struct Reply {
        var status: Int
        var headers: [AnyHashable: Any]
        var body: Data

        func header(_ name: String) -> String? {
            for (key, value) in headers where (key as? String)?.lowercased() == name.lowercased() { return value as? String }
            return nil
        }
    }

    enum Body {
        case none
        case data(Data)
        case file(URL)
    }

    func objectPath(_ key: BlobKey) -> String { "/\(configuration.bucket)/\(storedKey(key))" }
    func storedKey(_ key: BlobKey) -> String { configuration.root.isEmpty ? key.rawValue : configuration.root + "/" + key.rawValue }

    func domainKey(_ stored: String) -> BlobKey? {
        guard !configuration.root.isEmpty else { return BlobKey(stored) }
        guard stored.hasPrefix(configuration.root + "/") else { return nil }
        return BlobKey(String(stored.dropFirst(configuration.root.count + 1)))
    }

    func request(_ method: String, _ path: String, query: [(String, String)], headers: [(String, String)], payloadHash: String) -> URLRequest {
        let url = URL(
            string: configuration.endpoint + SigV4Signer.encodePath(path)
                + (query.isEmpty ? "" : "?" + SigV4Signer.canonicalQuery(query.map { ($0.0, $0.1) })))!
        let host = Self.hostHeader(url)
        let all = headers + [("host", host), ("x-amz-content-sha256", payloadHash)]
        var request = URLRequest(url: url)
        request.httpMethod = method
        for (name, value) in all where name != "host" { request.setValue(value, forHTTPHeaderField: name) }
        let signing = SigV4Signer.Request(
            method: method, path: path, query: query.map { ($0.0, $0.1) }, headers: all.map { ($0.0, $0.1) }, payloadHash: payloadHash)
        for (name, value) in signer.signatureHeaders(for: signing, at: now()) { request.setValue(value, forHTTPHeaderField: name) }
        return request
    }

    func send(
        _ method: String, _ path: String, query: [(String, String)] = [], headers: [(String, String)] = [], payloadHash: String? = nil,
        body: Body = .none, timeout: TimeInterval? = nil
    ) async throws -> Reply {
        let hash: String
        switch body {
        case .data(let data): hash = payloadHash ?? SHA256.hash(data: data).hex
        case .file: hash = payloadHash ?? SigV4Signer.unsignedPayload
        case .none: hash = SigV4Signer.emptyPayloadHash
        }
        var request = request(method, path, query: query, headers: headers, payloadHash: hash)
        if let timeout { request.timeoutInterval = timeout }
        do {
            let (data, response): (Data, URLResponse)
            switch body {
            case .none: (data, response) = try await session.data(for: request)
            case .data(let payload): (data, response) = try await session.upload(for: request, from: payload)
            case .file(let file): (data, response) = try await session.upload(for: request, fromFile: file)
            }
            guard let http = response as? HTTPURLResponse else { throw EncoreError(.storageError, "S3 answered something that is not HTTP.") }
            return Reply(status: http.statusCode, headers: http.allHeaderFields, body: data)
        } catch let error as URLError {
            throw unreachable(error)
        }
    }

    func download(_ path: String) async throws -> (URL, Int) {
        let request = request("GET", path, query: [], headers: [], payloadHash: SigV4Signer.emptyPayloadHash)
        do {
            let (file, response) = try await session.download(for: request)
            return (file, (response as? HTTPURLResponse)?.statusCode ?? 0)
        } catch let error as URLError {
            throw unreachable(error)
        }
    }

    /// The retryable error for a request that got no answer, remembered so that grants stop at once
    /// rather than when the next bucket probe is due.
    func unreachable(_ error: URLError) -> EncoreError {
        let failure = EncoreError(
            .storageUnavailable, "S3 at \(configuration.endpoint) cannot be reached: \(error.code.rawValue).", retryAfter: 5)
        probe.remember(failure, at: now(), for: 1)
        return failure
    }

    func check(_ reply: Reply, _ what: String) throws {
        guard (200..<300).contains(reply.status) else { throw Self.failure(status: reply.status, body: reply.body, what: what) }
    }

    static func failure(status: Int, body: Data, what: String) -> EncoreError {
        let code = ListingParser.value(of: "Code", in: body) ?? "HTTP \(status)"
        if status >= 500 || code == "SlowDown" {
            return EncoreError(.storageUnavailable, "S3 is not available right now (\(code)).", retryAfter: 5)
        }
        return EncoreError(.storageError, "S3 refused \(what): \(code).")
    }

    /// What `Host` says for `url`: the host, and the port when the URL names one.
    static func hostHeader(_ url: URL) -> String { url.port.map { "\(url.host ?? ""):\($0)" } ?? (url.host ?? "") }

    /// What S3 will answer as the object's `Content-Type`, so players given a pre-signed URL get the right one.
    static func contentType(_ key: BlobKey) -> String { AudioFormats.contentType(forExtension: key.pathExtension) }

    static func missing(_ key: BlobKey) -> EncoreError { EncoreError(.objectNotFound, "No object \(key).") }
    static func exists(_ key: BlobKey) -> EncoreError { EncoreError(.objectExists, "An object \(key) exists already.") }

    static func fileHash(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw EncoreError(.storageError, "Cannot read \(path).") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().hex
    }

    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}

/// One remembered probe result, valid until a deadline.
final class ProbeMemo: Sendable {
    private let state = Mutex<(until: Date, failure: EncoreError?)?>(nil)

    /// The remembered outcome (nil inside means success) while it is fresh.
    func fresh(at time: Date) -> EncoreError?? {
        state.withLock { remembered in
            guard let remembered, time < remembered.until else { return nil }
            return .some(remembered.failure)
        }
    }

    func remember(_ failure: EncoreError?, at time: Date, for seconds: TimeInterval) {
        state.withLock { $0 = (time.addingTimeInterval(seconds), failure) }
    }
}
