import Crypto
import EncoreCore
import Foundation

/// What a signed media URL allows: one method, until a time, on a key or everything below a prefix.
public struct MediaGrant: Sendable, Equatable {
    public enum Access: String, Sendable {
        /// `GET` and `HEAD` of any key within ``MediaGrant/scope``.
        case read = "R"
        /// One `PUT` of exactly ``MediaGrant/scope``, at most ``MediaGrant/maxBytes`` bytes.
        case write = "W"
    }

    public var access: Access
    public var scope: BlobKey
    /// Expiry, in whole seconds since 1970.
    public var expiresAt: Int
    /// Largest accepted body for `write`; 0 for `read`.
    public var maxBytes: Int

    public init(access: Access, scope: BlobKey, expiresAt: Date, maxBytes: Int = 0) {
        self.access = access
        self.scope = scope
        self.expiresAt = Int(expiresAt.timeIntervalSince1970.rounded(.down))
        self.maxBytes = maxBytes
    }
}

/// Signs and verifies media tokens: `base64url(payload).base64url(HMAC-SHA256(payload))`, where the payload
/// names the access, the expiry, the size limit and the key prefix it covers.
///
/// The token is one URL path segment placed before the key (`/media/{token}/{key}`), so that relative
/// references inside playlists resolve to URLs carrying the same token, as CDN token schemes do.
public struct MediaURLSigner: Sendable {
    private let key: SymmetricKey
    /// Tokens whose signature has been checked, with the grant they carry: every segment of a stream
    /// arrives with the same token, and the MAC only depends on the token.
    private let verified = BoundedMemo<String, MediaGrant>(capacity: 20_000)

    /// - Parameter secret: at least 32 bytes of key material, used for nothing else.
    public init(secret: SymmetricKey) {
        key = secret
    }

    /// The token for `grant`.
    public func token(for grant: MediaGrant) -> String {
        let payload = Data("v1|\(grant.access.rawValue)|\(grant.expiresAt)|\(grant.maxBytes)|\(grant.scope.rawValue)".utf8)
        let signature = Data(HMAC<SHA256>.authenticationCode(for: payload, using: key))
        return payload.base64URLEncoded() + "." + signature.base64URLEncoded()
    }

    /// Checks `token` for a request with `method` on `key` at `now`; returns the grant it carries.
    /// Throws `forbidden` with a specific code: `invalid_signature`, `url_expired`, `method_not_allowed`,
    /// `outside_scope`.
    public func verify(token: String, method: String, key requested: BlobKey, now: Date = Date()) throws -> MediaGrant {
        let grant: MediaGrant
        if let known = verified[token] {
            grant = known
        } else {
            grant = try signedGrant(in: token)
            verified.remember(grant, for: token)
        }
        guard Int(now.timeIntervalSince1970) < grant.expiresAt else {
            throw EncoreError(.forbidden, code: "url_expired", message: "The URL has expired; ask the API for a new one.")
        }
        let allowed: Bool =
            switch grant.access {
            case .read: method == "GET" || method == "HEAD"
            case .write: method == "PUT"
            }
        guard allowed else {
            throw EncoreError(.forbidden, code: "method_not_allowed", message: "The URL was not signed for \(method).")
        }
        let inScope = grant.access == .write ? requested == grant.scope : requested.isWithin(grant.scope)
        guard inScope else { throw EncoreError(.forbidden, code: "outside_scope", message: "The URL was not signed for this object.") }
        return grant
    }

    /// The grant in `token` when its signature is ours.
    private func signedGrant(in token: String) throws -> MediaGrant {
        let invalid = EncoreError(.forbidden, code: "invalid_signature", message: "The URL's signature is not valid.")
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Data(base64URLEncoded: parts[0]), let signature = Data(base64URLEncoded: parts[1]),
            HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: payload, using: key)
        else { throw invalid }
        // The payload is ours (the MAC says so), so a malformed one is a bug or an old format: refuse it all the same.
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "|", maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0] == "v1", let access = MediaGrant.Access(rawValue: String(fields[1])),
            let expiresAt = Int(fields[2]), let maxBytes = Int(fields[3]), let scope = BlobKey(String(fields[4]))
        else { throw invalid }
        return MediaGrant(access: access, scope: scope, expiresAt: Date(timeIntervalSince1970: TimeInterval(expiresAt)), maxBytes: maxBytes)
    }
}

extension Data {
    /// Base64url without padding (RFC 4648 §5). Byte-level: this runs on every media request.
    public func base64URLEncoded() -> String {
        var bytes = [UInt8](base64EncodedData())
        while bytes.last == UInt8(ascii: "=") { bytes.removeLast() }
        for index in bytes.indices {
            if bytes[index] == UInt8(ascii: "+") {
                bytes[index] = UInt8(ascii: "-")
            } else if bytes[index] == UInt8(ascii: "/") {
                bytes[index] = UInt8(ascii: "_")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Decodes unpadded base64url; nil on any character outside its alphabet.
    public init?(base64URLEncoded text: some StringProtocol) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 3)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                bytes.append(byte)
            case UInt8(ascii: "-"): bytes.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): bytes.append(UInt8(ascii: "/"))
            default: return nil
            }
        }
        bytes += [UInt8](repeating: UInt8(ascii: "="), count: (4 - bytes.count % 4) % 4)
        self.init(base64Encoded: Data(bytes))
    }
}
