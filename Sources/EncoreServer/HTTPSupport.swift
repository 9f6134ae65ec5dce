import CoreMetrics
import Crypto
import EncoreCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// JSON as the API speaks it: camelCase keys, ISO 8601 dates.
enum APIJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    /// A JSON response. Successful ones carry a strong `ETag` of their bytes, so clients can revalidate
    /// with `If-None-Match` (see ``ConditionalGet``); errors are never stored.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let data = try encoder.encode(value)
        let etag = status == .ok || status == .created ? headers[.eTag] ?? Self.etag(of: data) : nil
        return response(ByteBuffer(bytes: data), etag: etag, status: status, headers: headers)
    }

    /// A strong entity tag for a body: the first 128 bits of its SHA-256.
    static func etag(of data: Data) -> String {
        "\"" + Data(SHA256.hash(data: data).prefix(16)).base64URLEncoded() + "\""
    }

    /// A response for JSON already encoded; `etag` is nil for errors, which are never stored.
    static func response(_ body: ByteBuffer, etag: String?, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        if let etag {
            fields[.eTag] = etag
            fields[.cacheControl] = fields[.cacheControl] ?? "private, no-cache"
        } else {
            fields[.cacheControl] = fields[.cacheControl] ?? "no-store"
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: body))
    }

    /// Decodes a JSON request body, turning every way it can be wrong into a 4xx with a useful message.
    static func body<T: Decodable>(_ type: T.Type, from request: Request, context: EncoreRequestContext) async throws -> T {
        if let contentType = request.headers[.contentType], !isJSON(contentType) {
            throw EncoreError(.unsupportedMediaType, "The body must be JSON, sent with Content-Type: application/json.")
        }
        let buffer = try await request.collectBody(upTo: context.maxUploadSize, describing: "JSON body")
        guard buffer.readableBytes > 0 else { throw EncoreError(.missingBody, "A JSON body is required.") }
        do {
            return try decoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw EncoreError(.invalidBody, describe(error))
        }
    }

    /// `application/json`, or any `…+json` type, with or without parameters.
    static func isJSON(_ contentType: String) -> Bool {
        let type = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingHTTPWhitespace.lowercased() } ?? ""
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "Missing field '\(path(context.codingPath + [key]))'."
        case .typeMismatch(let type, let context):
            return context.codingPath.isEmpty ? "The body must be a JSON object." : "Field '\(path(context.codingPath))' must be \(describe(type))."
        case .valueNotFound(let type, let context):
            return "Field '\(path(context.codingPath))' must be \(describe(type)), not null."
        case .dataCorrupted(let context):
            guard let field = context.codingPath.last else { return "The body is not valid JSON, or holds a number out of range." }
            if field.stringValue == "role" { return "Field 'role' must be one of listener, artist." }
            if context.debugDescription.contains("Parsed JSON number") || context.debugDescription.contains("does not fit") {
                return "Field '\(path(context.codingPath))' must be a whole number in range."
            }
            return "Field '\(path(context.codingPath))' is invalid."
        @unknown default:
            return "The body does not match the expected shape."
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "a whole number"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is UUID.Type: "a UUID string"
        case is Date.Type: "a date-time such as 2026-12-01T10:00:00Z"
        default: "of another type (see the API description)"
        }
    }
}

/// Encoded JSON responses remembered per id and reused while the value they were made from is unchanged:
/// comparing a value costs far less than encoding it (players poll track metadata). Bounded; when full it
/// starts over.
final class EncodedResponses<Value: Equatable & Sendable>: Sendable {
    private let encoded: BoundedMemo<UUID, (value: Value, body: ByteBuffer, etag: String)>

    init(capacity: Int = 10_000) {
        encoded = BoundedMemo(capacity: capacity)
    }

    /// `200 OK` with `resource(value)` as JSON, encoded only when `value` differs from the one last seen for `id`.
    func response(for value: Value, id: UUID, resource: (Value) -> some Encodable) throws -> Response {
        if let hit = encoded[id], hit.value == value {
            return APIJSON.response(hit.body, etag: hit.etag)
        }
        let data = try APIJSON.encoder.encode(resource(value))
        let body = ByteBuffer(bytes: data)
        let etag = APIJSON.etag(of: data)
        encoded.remember((value, body, etag), for: id)
        return APIJSON.response(body, etag: etag)
    }
}

/// Body of every error response: `{"error": {"code": "…", "message": "…"}}`.
struct ErrorBody: Codable, Sendable {
    struct Detail: Codable, Sendable {
        var code: String
        var message: String
    }

    var error: Detail
}

extension EncoreError.Kind {
    var status: HTTPResponse.Status {
        switch self {
        case .invalidInput: .badRequest
        case .unsupportedFormat: .unsupportedMediaType
        case .unprocessable: .unprocessableContent
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .tooLarge: .contentTooLarge
        case .rateLimited: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .internalFailure: .internalServerError
        }
    }
}

/// The middleware every request passes through, outermost: it turns errors into JSON responses, answers
/// conditional GETs with 304, and logs one line per request. One wrapper rather than three: each
/// middleware layer costs an async frame per request, which the metadata benchmark measured (≈ 8%).
/// Request counts and latencies by route, method and status (`encore_http_requests_total`,
/// `encore_http_request_duration_seconds`). Routes are patterns (`/api/v1/tracks/{id}`), never ids, so the
/// number of series stays bounded.
final class RequestMetrics: Sendable {
    private struct Series: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    private let factory: any MetricsFactory
    private let series = Mutex<[Series: (Counter, CoreMetrics.Timer)]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func record(route: String, method: String, status: Int, elapsed: Duration) {
        let key = Series(route: route, method: method, status: status)
        let (counter, timer) = series.withLock { series in
            if let known = series[key] { return known }
            let dimensions = [("route", route), ("method", method), ("status", String(status))]
            let made = (
                Counter(label: "encore_http_requests_total", dimensions: dimensions, factory: factory),
                CoreMetrics.Timer(label: "encore_http_request_duration_seconds", dimensions: dimensions, factory: factory)
            )
            series[key] = made
            return made
        }
        counter.increment()
        timer.record(elapsed)
    }
}

struct EdgeMiddleware: RouterMiddleware {
    typealias Context = EncoreRequestContext
    static let requestIdField = HTTPField.Name("X-Request-Id")!
    static let forwardedForField = HTTPField.Name("X-Forwarded-For")!
    let metrics: RequestMetrics
    /// Proxies whose `X-Forwarded-For` is believed (see ``ClientAddress``).
    var trustedProxies: Set<String> = []
    var accessLog: AccessLog = .disabled

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        if !trustedProxies.isEmpty {
            context.clientAddress = ClientAddress.resolve(
                peer: context.clientAddress, forwardedFor: request.headers[Self.forwardedForField], trusted: trustedProxies)
        }
        var response: Response
        let scope = ReadScope(presentedPosition: ReadAfter.presented(in: request))
        do {
            response = try await ReadScope.$current.withValue(scope) { try await next(request, context) }
        } catch {
            response = ErrorResponses.response(for: error, request: request, logger: context.logger)
        }
        ReadAfter.answer(scope, in: &response)
        response = ConditionalGet.response(to: request, from: response)
        // The id every log line of this request carries (`hb.request.id`), so a client's report can be
        // matched with the server's log.
        // (A context made outside the server, as in-process tests make them, has none: one is made up.)
        let requestID = context.logger[metadataKey: "hb.request.id"]?.description ?? UUID().uuidString.lowercased()
        response.headers[Self.requestIdField] = requestID
        let elapsed = ContinuousClock.now - start
        metrics.record(
            route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: Int(response.status.code), elapsed: elapsed)
        if accessLog.isEnabled {
            let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
            accessLog.record(
                method: request.method.rawValue, path: RequestLog.redacted(request.uri.path), status: Int(response.status.code),
                elapsedNanoseconds: nanoseconds, requestID: requestID)
        }
        return response
    }
}

/// Every error as a JSON error response with a stable code. Unexpected errors become a 500 whose details
/// go to the log, not to the client.
enum ErrorResponses {
    static func response(for error: any Error, request: Request, logger: Logger) -> Response {
        let (status, code, message): (HTTPResponse.Status, String, String)
        var headers: HTTPFields = [:]
        switch error {
        case let error as EncoreError:
            (status, code, message) = (error.kind.status, error.code.rawValue, error.message)
            if error.kind == .internalFailure { logger.error("internal failure", metadata: ["error": "\(error)"]) }
            if error.kind == .unauthenticated { headers[.wwwAuthenticate] = "Bearer" }
            if let retryAfter = error.retryAfter { headers[.retryAfter] = String(retryAfter) }
        case let error as HTTPError:
            status = error.status
            code = Self.code(for: error.status)
            message =
                error.body ?? (error.status == .notFound ? "No such endpoint: \(request.method) \(request.uri.path)." : error.status.reasonPhrase)
        case let error as DecodingError:
            (status, code, message) = (.badRequest, ErrorCode.invalidBody.rawValue, APIJSON.describe(error))
        default:
            logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            (status, code, message) = (.internalServerError, ErrorCode.internalError.rawValue, "Something went wrong on our side.")
        }
        // The code as a header too, for proxies that pass on a refusal without its body (the edge's auth_request).
        headers[HTTPField.Name("X-Encore-Error")!] = code
        let body = ErrorBody(error: .init(code: code, message: message))
        return (try? APIJSON.response(body, status: status, headers: headers)) ?? Response(status: .internalServerError)
    }

    /// The catalogue's code for an error the HTTP framework raised itself (no route, wrong method, …).
    static func code(for status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: ErrorCode.notFound.rawValue
        case .methodNotAllowed: ErrorCode.methodNotAllowed.rawValue
        case .contentTooLarge: ErrorCode.bodyTooLarge.rawValue
        case .unauthorized: ErrorCode.unauthenticated.rawValue
        case .forbidden: ErrorCode.forbidden.rawValue
        case .serviceUnavailable: ErrorCode.notReady.rawValue
        default: status.code >= 500 ? ErrorCode.internalError.rawValue : ErrorCode.badRequest.rawValue
        }
    }
}

/// Answers a `GET` whose `If-None-Match` names the response's current `ETag` with 304 and no body: the
/// client's copy is still good, and the bytes need not travel again.
enum ConditionalGet {
    static func response(to request: Request, from response: Response) -> Response {
        guard request.method == .get || request.method == .head, response.status == .ok, let etag = response.headers[.eTag],
            let tags = request.headers[.ifNoneMatch], MediaOrigin.matches(tags, etag: etag)
        else { return response }
        var headers = response.headers
        headers[.contentType] = nil
        headers[.contentLength] = nil
        return Response(status: .notModified, headers: headers)
    }
}

/// The request log's view of paths. Media tokens are secrets for their lifetime, so they never reach the log.
enum RequestLog {
    /// The path with a media token replaced by `…`. Byte-level: the access log calls it for every
    /// segment, and `Character`-based indexing showed as 5 % of the sendfile path's CPU.
    static func redacted(_ path: String) -> String {
        let prefix = 7  // "/media/".utf8.count
        let cut = path.utf8.withContiguousStorageIfAvailable { bytes -> Int? in
            guard hasMediaPrefix(bytes) else { return nil }
            return bytes[prefix...].firstIndex(of: 0x2F) ?? bytes.count
        }
        guard let cut = cut ?? (path.hasPrefix("/media/") ? path.utf8.count : nil) else { return path }
        let rest = path.utf8.index(path.utf8.startIndex, offsetBy: cut)
        return "/media/…" + path[rest...]
    }

    /// `/media/` and at least one byte more, compared byte by byte (a generic `starts(with:)` showed in
    /// the sendfile path's profile).
    static func hasMediaPrefix(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.count > 7 && bytes[0] == 0x2F && bytes[1] == 0x6D && bytes[2] == 0x65 && bytes[3] == 0x64 && bytes[4] == 0x69
            && bytes[5] == 0x61 && bytes[6] == 0x2F
    }
}

extension StringProtocol {
    /// Without leading and trailing HTTP whitespace (spaces and tabs). Byte-level: Foundation's
    /// `trimmingCharacters(in:)` goes through NSString and costs more than a whole cached response.
    var trimmingHTTPWhitespace: Substring {
        let text = Substring(self)
        let isWhitespace = { (character: Character) in character == " " || character == "\t" }
        guard let first = text.firstIndex(where: { !isWhitespace($0) }), let last = text.lastIndex(where: { !isWhitespace($0) }) else {
            return text[text.endIndex...]
        }
        return text[first...last]
    }
}

extension Request {
    /// The query string as HTML forms and client libraries encode it: `+` is a space, `%2B` a plus.
    /// Throws `invalid_query` on malformed percent-escapes.
    func query() throws -> FormQuery { try FormQuery(uri.query ?? "") }

    /// `limit` and `offset` from the query string.
    func pageRequest() throws -> PageRequest {
        let query = try self.query()
        return try PageRequest(
            limit: query.integer("limit", code: .invalidLimit) ?? PageRequest.defaultLimit, offset: query.integer("offset", code: .invalidOffset) ?? 0
        )
    }
}

/// A decoded `application/x-www-form-urlencoded` query string (WHATWG URL standard): pairs split on `&`,
/// name and value on the first `=`, `+` read as a space before percent-decoding. The first value of a
/// repeated name wins.
extension Request {
    /// The whole body, at most `limit` bytes: past that, `body_too_large` naming `what` it is.
    func collectBody(upTo limit: Int, describing what: String) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw EncoreError(.bodyTooLarge, "The \(what) must be at most \(limit) bytes.")
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw EncoreError(.bodyTooLarge, "The \(what) must be at most \(limit) bytes.")
        }
    }
}

struct FormQuery: Sendable {
    private(set) var pairs: [(name: String, value: String)] = []

    init(_ raw: String) throws {
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            pairs.append((try Self.decode(parts[0]), parts.count > 1 ? try Self.decode(parts[1]) : ""))
        }
    }

    private static func decode(_ component: Substring) throws -> String {
        let spaced = component.replacingOccurrences(of: "+", with: " ")
        guard let decoded = spaced.removingPercentEncoding else {
            throw EncoreError(.invalidQuery, "The query string has a malformed percent-escape or is not UTF-8.")
        }
        return decoded
    }

    func get(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// Every value given for `name`, in order (Subsonic repeats a parameter for lists).
    func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// These pairs followed by `other`'s.
    func merged(with other: FormQuery) -> FormQuery {
        var merged = self
        merged.pairs += other.pairs
        return merged
    }

    /// A whole number, or `code` when it is not one (or does not fit in 64 bits).
    func integer(_ name: String, code: ErrorCode) throws -> Int? {
        guard let raw = get(name) else { return nil }
        guard let value = Int(raw) else { throw EncoreError(code, "\(name) must be a whole number.") }
        return value
    }
}

extension EncoreRequestContext {
    /// A UUID path parameter, or `invalid_id`.
    func uuid(_ name: String = "id") throws -> UUID {
        guard let raw = parameters.get(name), let id = UUID(uuidString: raw) else {
            throw EncoreError(.invalidId, "\(name) must be a UUID.")
        }
        return id
    }
}

/// Read-your-writes across instances and replicas (see ``ReadScope``): a response to a request that wrote
/// carries the write's position in `Encore-Read-After` and in a short-lived cookie of the same name;
/// a client that presents it (the header, or the cookie browsers send back by themselves) has its reads
/// served by a replica only once that replica has replayed the write. Clients that present nothing are
/// still covered for their own account: instances tell each other who wrote what (PostgreSQL's NOTIFY).
enum ReadAfter {
    static let header = HTTPField.Name("Encore-Read-After")!
    static let cookie = "encore_read_after"
    /// Long enough for any replica that is not broken to catch up.
    static let cookieLifetime = 60

    static func presented(in request: Request) -> String? {
        if let value = request.headers[header] { return value }
        guard let cookies = request.headers[.cookie] else { return nil }
        for part in cookies.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(cookie + "=") { return String(pair.dropFirst(cookie.count + 1)) }
        }
        return nil
    }

    static func answer(_ scope: ReadScope, in response: inout Response) {
        guard let position = scope.writtenPosition else { return }
        response.headers[header] = position
        response.headers.append(
            HTTPField(name: .setCookie, value: "\(cookie)=\(position); Path=/; Max-Age=\(cookieLifetime); HttpOnly; SameSite=Lax"))
    }
}
