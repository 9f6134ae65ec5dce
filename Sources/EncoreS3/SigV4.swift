import Crypto
import Foundation

/// AWS Signature Version 4, as S3 and every S3-compatible store (SeaweedFS, Ceph RGW, R2, MinIO) check it:
/// signed request headers for Encore's own calls, and pre-signed query URLs for the clients it sends
/// straight to storage. Written once; `SigV4Tests` proves it against AWS's published examples and, byte for
/// byte, against boto3's `generate_presigned_url`.
///
/// Paths are encoded the way S3 wants them: each byte outside the unreserved set percent-encoded once,
/// `/` kept, no normalisation (`a//b` and `../` are object keys, not paths to clean up).
public struct SigV4Signer: Sendable {
    public struct Credentials: Sendable, Equatable {
        public var accessKeyId: String
        public var secretAccessKey: String
        /// For temporary credentials (STS); sent as `X-Amz-Security-Token`.
        public var sessionToken: String?

        public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
            self.accessKeyId = accessKeyId
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }
    }

    /// A request to sign: the path as it goes on the wire comes from ``SigV4Signer/encodePath(_:)``.
    public struct Request: Sendable {
        public var method: String
        /// The path, not yet encoded (`/bucket/some key`).
        public var path: String
        /// Query parameters, not yet encoded.
        public var query: [(name: String, value: String)]
        /// Headers to sign, `host` included.
        public var headers: [(name: String, value: String)]
        /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
        public var payloadHash: String

        public init(
            method: String, path: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)],
            payloadHash: String
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// The longest a pre-signed URL may live (S3's own limit).
    public static let maxPresignedLifetime = 604_800

    public let credentials: Credentials
    public let region: String
    public let service: String

    public init(credentials: Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    // MARK: Header signing

    /// The headers to add to `request` (`Authorization`, `X-Amz-Date`, and the session token if any), for
    /// a request made at `date`.
    public func signatureHeaders(for request: Request, at date: Date) -> [(name: String, value: String)] {
        let stamp = Self.timestamp(date)
        var headers = request.headers + [("x-amz-date", stamp)]
        if let token = credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        var signed = request
        signed.headers = headers
        let (canonical, signedHeaders) = Self.canonicalRequest(signed)
        let signature = sign(canonical, stamp: stamp)
        var added = [("X-Amz-Date", stamp)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        added.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope(stamp)), SignedHeaders=\(signedHeaders), Signature=\(signature)"
            ))
        return added
    }

    // MARK: Pre-signed URLs

    /// A URL that lets whoever holds it make this one request (method, path, signed headers) until
    /// `lifetime` seconds after `date`. `base` is the endpoint, `https://host[:port]`. `signedHeaders`
    /// (lowercase names) must then be sent with exactly these values, besides `host`.
    public func presignedURL(
        method: String, base: String, path: String, query: [(name: String, value: String)] = [], host: String,
        signedHeaders: [(name: String, value: String)] = [], lifetime: Int, at date: Date
    ) -> String {
        let stamp = Self.timestamp(date)
        let headers = ([("host", host)] + signedHeaders).sorted { $0.0 < $1.0 }
        var parameters =
            query + [
                ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope(stamp))"),
                ("X-Amz-Date", stamp), ("X-Amz-Expires", String(min(max(lifetime, 1), Self.maxPresignedLifetime))),
                ("X-Amz-SignedHeaders", headers.map(\.0).joined(separator: ";")),
            ]
        if let token = credentials.sessionToken { parameters.append(("X-Amz-Security-Token", token)) }
        let request = Request(method: method, path: path, query: parameters, headers: headers, payloadHash: Self.unsignedPayload)
        let (canonical, _) = Self.canonicalRequest(request)
        let signature = sign(canonical, stamp: stamp)
        // The signature covers the parameters sorted; the URL lists them as boto3 does, in the order given.
        let listed = parameters.map { Self.encode($0.name, keepSlash: false) + "=" + Self.encode($0.value, keepSlash: false) }
        return base + Self.encodePath(path) + "?" + listed.joined(separator: "&") + "&X-Amz-Signature=" + signature
    }

    // MARK: The algorithm

    /// The canonical request and the signed-headers list.
    static func canonicalRequest(_ request: Request) -> (String, String) {
        var headers: [String: String] = [:]
        for (name, value) in request.headers {
            let key = name.lowercased()
            let trimmed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            headers[key] = headers[key].map { $0 + "," + trimmed } ?? trimmed
        }
        let names = headers.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(headers[$0]!)\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonical = [
            request.method, encodePath(request.path), canonicalQuery(request.query), canonicalHeaders, signedHeaders, request.payloadHash,
        ].joined(separator: "\n")
        return (canonical, signedHeaders)
    }

    /// Query parameters encoded and sorted by encoded name, then value.
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (encode($0.name, keepSlash: false), encode($0.value, keepSlash: false)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// The path as S3 signs and receives it.
    public static func encodePath(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : "/" + path
        return encode(absolute, keepSlash: true)
    }

    static func encode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    func scope(_ stamp: String) -> String { "\(stamp.prefix(8))/\(region)/\(service)/aws4_request" }

    func sign(_ canonicalRequest: String, stamp: String) -> String {
        let hashed = SHA256.hash(data: Data(canonicalRequest.utf8)).hex
        let stringToSign = "AWS4-HMAC-SHA256\n\(stamp)\n\(scope(stamp))\n\(hashed)"
        var key = SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [String(stamp.prefix(8)), region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return Data(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key)).hex
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC.
    static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!)
    }
}

extension Sequence where Element == UInt8 {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
