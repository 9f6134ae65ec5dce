import Crypto
import EncoreCore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The Subsonic / OpenSubsonic API at `/rest/{method}` (and `/rest/{method}.view`): a second surface over
/// the same services as `/api/v1`, so that Subsonic apps (DSub, Symfonium, Substreamer, Amperfy, Feishin,
/// …) play Encore.
///
/// Every answer, failures included, is HTTP 200 with a `subsonic-response` envelope (XML unless `f=json` or
/// `f=jsonp`), as the protocol requires; media answers are redirects to signed media URLs, so audio never
/// passes through this handler.
struct SubsonicController {
    static let protocolVersion = "1.16.1"

    let services: EncoreServices
    let endpoints: [String: SubsonicEndpoint]

    init(services: EncoreServices) {
        self.services = services
        endpoints = SubsonicEndpoints(services: services).all
    }

    func addRoutes(to router: Router<EncoreRequestContext>) {
        for method in [HTTPRequest.Method.get, .post, .head] {
            router.on("/rest/:method", method: method) { request, context in await handle(request, context: context) }
        }
    }

    func handle(_ request: Request, context: EncoreRequestContext) async -> Response {
        var format = SubsonicFormat.xml
        do {
            let query = try FormQuery(request.uri.query ?? "")
            // The query string's `f` answers even a request whose body cannot be read.
            if let fromQuery = try? SubsonicFormat(SubsonicParameters(query)) { format = fromQuery }
            let parameters = try await SubsonicParameters(query: query, request, context: context)
            format = try SubsonicFormat(parameters)
            let raw = context.parameters.get("method") ?? ""
            let name = raw.hasSuffix(".view") ? String(raw.dropLast(5)) : raw
            guard let endpoint = endpoints[name] else {
                return format.failure(code: 0, message: "Unknown method \(name).", status: .notFound)
            }
            try Self.checkVersion(parameters.string("v"))
            // HEAD is for media (players probe a stream's size); it never changes anything.
            if request.method == .head, !endpoint.readOnly {
                throw EncoreError(.methodNotAllowed, "\(name) changes things: use GET or POST.")
            }
            let caller: SubsonicCaller?
            if endpoint.needsCredentials {
                caller = try await SubsonicAuthentication.authenticate(
                    parameters, appPasswords: services.appPasswords, client: context.clientAddress)
            } else {
                caller = nil
            }
            let call = SubsonicCall(parameters: parameters, caller: caller, method: request.method, logger: context.logger)
            switch try await endpoint.run(call) {
            case .document(let payload): return format.success(payload)
            case .response(let response): return response
            }
        } catch let error as EncoreError {
            if error.kind == .internalFailure { context.logger.error("subsonic internal failure", metadata: ["error": "\(error)"]) }
            return format.failure(code: SubsonicErrors.code(for: error), message: error.message)
        } catch {
            context.logger.error("subsonic unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return format.failure(code: 0, message: "Something went wrong on our side.")
        }
    }

    /// Any 1.x client is served (Encore answers 1.16.1 and OpenSubsonic); a 2.x client needs a newer server.
    static func checkVersion(_ version: String?) throws {
        guard let version, let major = Int(version.split(separator: ".").first ?? "") else { return }
        if major > 1 { throw EncoreError(.serverMustUpgrade, "This server speaks Subsonic \(protocolVersion); version \(version) is too new.") }
    }
}

/// One Subsonic method.
struct SubsonicEndpoint: Sendable {
    var needsCredentials = true
    /// False for the methods that change something: those answer only GET and POST.
    var readOnly = true
    var run: @Sendable (SubsonicCall) async throws -> SubsonicReply
}

enum SubsonicReply: Sendable {
    /// Fields added to an `ok` envelope.
    case document(SubsonicObject)
    /// A response of its own (a redirect to media).
    case response(Response)
}

/// Who is calling: the account and the app password it used.
struct SubsonicCaller: Sendable {
    var user: User

    init(user: User) {
        self.user = user
        // Reads of this request must see this user's own writes, through any instance (see ``ReadScope``).
        ReadScope.current?.subject = user.id
    }

    var principal: Principal { Principal(userId: user.id, role: user.role) }
}

/// A request's parameters and caller, as endpoints see them.
struct SubsonicCall: Sendable {
    var parameters: SubsonicParameters
    var caller: SubsonicCaller?
    var method: HTTPRequest.Method
    var logger: Logger

    /// The caller (every endpoint but the credential-free ones has one).
    var user: User {
        get throws {
            guard let caller else { throw EncoreError(.unauthenticated, "Credentials are required.") }
            return caller.user
        }
    }

    var principal: Principal {
        get throws { try user.principal }
    }

    /// The app, as it names itself with `c`.
    var client: String { parameters.string("c") ?? "" }
}

extension User {
    var principal: Principal { Principal(userId: id, role: role) }
}

/// Parameters from the query string and, for `POST`s with a form body, the body too (DSub sends both).
struct SubsonicParameters: Sendable {
    private let form: FormQuery

    /// `query` (the request's, already read) and, for a form `POST`, the body's parameters after it.
    init(query: FormQuery, _ request: Request, context: EncoreRequestContext) async throws {
        var form = query
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        if request.method == .post, contentType.hasPrefix("application/x-www-form-urlencoded") {
            let body = try await request.collectBody(upTo: context.maxUploadSize, describing: "form body")
            form = form.merged(with: try FormQuery(String(decoding: body.readableBytesView, as: UTF8.self)))
        }
        self.form = form
    }

    init(_ form: FormQuery) { self.form = form }

    func string(_ name: String) -> String? { form.get(name) }
    func all(_ name: String) -> [String] { form.all(name) }

    func require(_ name: String) throws -> String {
        guard let value = form.get(name), !value.isEmpty else {
            throw EncoreError(.missingParameter, "Required parameter \(name) is missing.")
        }
        return value
    }

    /// An id parameter. An id that is not one of Encore's is an unknown id (error 70), not a malformed request.
    func id(_ name: String = "id") throws -> UUID {
        try Self.uuid(try require(name))
    }

    func ids(_ name: String) throws -> [UUID] { try all(name).filter { !$0.isEmpty }.map(Self.uuid) }

    static func uuid(_ raw: String) throws -> UUID {
        guard let id = UUID(uuidString: raw) else { throw EncoreError(.notFound, "No item with id \(raw.prefix(64)).") }
        return id
    }

    func int(_ name: String) throws -> Int? {
        guard let raw = form.get(name), !raw.isEmpty else { return nil }
        guard let value = Int(raw) else { throw EncoreError(.invalidParameter, "\(name) must be a whole number.") }
        return value
    }

    /// A count or size: out-of-range values are clamped, as apps asking for "everything" expect a full page.
    func count(_ name: String, default fallback: Int, max: Int, min: Int = 0) throws -> Int {
        guard let value = try int(name) else { return fallback }
        return Swift.min(Swift.max(value, min), max)
    }

    func int(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let value = try int(name) else { return fallback }
        guard range.contains(value) else {
            throw EncoreError(.invalidParameter, "\(name) must be between \(range.lowerBound) and \(range.upperBound).")
        }
        return value
    }

    /// `true`/`false` in any case (py-sonic sends Python's `True`), or 1/0.
    func bool(_ name: String) throws -> Bool? {
        guard let raw = form.get(name)?.lowercased(), !raw.isEmpty else { return nil }
        switch raw {
        case "true", "1": return true
        case "false", "0": return false
        default: throw EncoreError(.invalidParameter, "\(name) must be true or false.")
        }
    }
}

/// Subsonic's credentials: `u` with `p` (clear, or `enc:` and hex) or with `t` = md5(password + `s`), or
/// OpenSubsonic's `apiKey` alone. The password is always an app password: Encore keeps login passwords only
/// as bcrypt hashes, which the token scheme cannot use.
enum SubsonicAuthentication {
    static func authenticate(_ parameters: SubsonicParameters, appPasswords: AppPasswordService, client: String?) async throws -> SubsonicCaller {
        let username = parameters.string("u")
        if let apiKey = parameters.string("apiKey") {
            guard username == nil else {
                throw EncoreError(.conflictingCredentials, "Send either apiKey or u with a password or token, not both.")
            }
            guard let found = try await appPasswords.authenticate(apiKey: apiKey) else {
                throw EncoreError(.invalidApiKey, "The API key is not valid (or was revoked).")
            }
            return SubsonicCaller(user: found.user)
        }
        let user = try parameters.require("u")
        let wrong = EncoreError(.invalidCredentials, "Wrong username or password. Use an app password (Encore: Settings → App passwords).")
        if let token = parameters.string("t") {
            let salt = try parameters.require("s")
            let expected = token.lowercased()
            guard
                let found = try await appPasswords.authenticate(
                    email: user,
                    matches: { secret in
                        constantTimeEqual(Insecure.MD5.hash(data: Data((secret + salt).utf8)).hex, expected)
                    })
            else { throw wrong }
            return SubsonicCaller(user: found.user)
        }
        let password = try decodePassword(try parameters.require("p"))
        guard let found = try await appPasswords.authenticate(email: user, client: client, matches: { constantTimeEqual($0, password) }) else {
            throw wrong
        }
        return SubsonicCaller(user: found.user)
    }

    /// `p` as sent: clear text, or `enc:` followed by the UTF-8 bytes in hex.
    static func decodePassword(_ raw: String) throws -> String {
        guard raw.hasPrefix("enc:") else { return raw }
        let hex = Array(raw.dropFirst(4).utf8)
        guard hex.count % 2 == 0 else { throw EncoreError(.invalidCredentials, "p=enc: must be followed by hexadecimal.") }
        func digit(_ character: UInt8) -> UInt8? {
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: hex.count, by: 2) {
            guard let high = digit(hex[index]), let low = digit(hex[index + 1]) else {
                throw EncoreError(.invalidCredentials, "p=enc: must be followed by hexadecimal.")
            }
            bytes.append(high << 4 | low)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw EncoreError(.invalidCredentials, "p=enc: must encode UTF-8 text.")
        }
        return text
    }

    /// Compares without an early exit, so timing does not tell how much of a guess was right.
    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let (left, right) = (Array(lhs.utf8), Array(rhs.utf8))
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}

extension Digest {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

/// Encore's error catalogue on Subsonic's numeric codes.
enum SubsonicErrors {
    /// The code for an error: 10 missing or invalid parameter, 20/30 version mismatch, 40 wrong credentials,
    /// 42 unsupported authentication, 43 conflicting credentials, 44 invalid API key, 50 not allowed,
    /// 70 not found, 0 anything else. (41, LDAP users and tokens, cannot happen: Encore has no LDAP.)
    static func code(for error: EncoreError) -> Int {
        switch error.code {
        case .clientMustUpgrade: return 20
        case .serverMustUpgrade: return 30
        case .unsupportedAuthentication: return 42
        case .conflictingCredentials: return 43
        case .invalidApiKey: return 44
        case .trackNotReady, .trackFailed: return 70
        default: break
        }
        switch error.kind {
        case .invalidInput: return 10
        case .unauthenticated: return 40
        case .forbidden: return 50
        case .notFound: return 70
        case .unsupportedFormat, .unprocessable, .conflict, .tooLarge, .rateLimited, .unavailable, .internalFailure: return 0
        }
    }
}

/// `f`: how the envelope is written.
enum SubsonicFormat: Sendable {
    case xml
    case json
    case jsonp(callback: String)

    init(_ parameters: SubsonicParameters) throws {
        switch parameters.string("f")?.lowercased() {
        case nil, "", "xml": self = .xml
        case "json": self = .json
        case "jsonp":
            let callback = try parameters.require("callback")
            // Only a JavaScript identifier path: the callback is written into executable script.
            guard callback.count <= 100, callback.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_$.".contains($0)) }) else {
                throw EncoreError(.invalidParameter, "callback must be a JavaScript function name.")
            }
            self = .jsonp(callback: callback)
        case let other?: throw EncoreError(.invalidParameter, "f must be xml, json or jsonp, not \(other.prefix(20)).")
        }
    }

    static func envelope(status: String) -> SubsonicObject {
        SubsonicObject([
            "status": .string(status), "version": .string(SubsonicController.protocolVersion), "type": "encore",
            "serverVersion": .string(EncoreVersion.current), "openSubsonic": true,
        ])
    }

    func success(_ payload: SubsonicObject) -> Response {
        var root = Self.envelope(status: "ok")
        for (name, value) in payload.fields { root[name] = value }
        return write(root, status: .ok)
    }

    /// Failures are HTTP 200 too (apps read the envelope, not the status), except for unknown methods.
    func failure(code: Int, message: String, status: HTTPResponse.Status = .ok) -> Response {
        var root = Self.envelope(status: "failed")
        root["error"] = .object(SubsonicObject(["code": .int(code), "message": .string(message)]))
        return write(root, status: status)
    }

    private func write(_ root: SubsonicObject, status: HTTPResponse.Status) -> Response {
        let (text, contentType): (String, String)
        switch self {
        case .xml: (text, contentType) = (SubsonicWriter.xml(root), "text/xml; charset=utf-8")
        case .json: (text, contentType) = (SubsonicWriter.json(root), "application/json; charset=utf-8")
        case .jsonp(let callback): (text, contentType) = (callback + "(" + SubsonicWriter.json(root) + ");", "application/javascript; charset=utf-8")
        }
        // Answers depend on the caller's credentials and change with every write: no shared cache may keep them.
        return Response(
            status: status, headers: [.contentType: contentType, .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
