import Crypto
import EncoreCore
import Foundation

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
            throw EncoreError(.urlExpired, "The URL has expired; ask the API for a new one.")
        }
        let allowed: Bool =
            switch grant.access {
            case .read: method == "GET" || method == "HEAD"
            case .write: method == "PUT"
            }
        guard allowed else {
            throw EncoreError(.methodNotAllowed, "The URL was not signed for \(method).")
        }
        let inScope = grant.access == .write ? requested == grant.scope : requested.isWithin(grant.scope)
        guard inScope else { throw EncoreError(.outsideScope, "The URL was not signed for this object.") }
        return grant
    }

    /// The grant in `token` when its signature is ours.
    private func signedGrant(in token: String) throws -> MediaGrant {
        let invalid = EncoreError(.invalidSignature, "The URL's signature is not valid.")
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
