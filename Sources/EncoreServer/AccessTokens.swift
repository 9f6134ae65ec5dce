import Crypto
import EncoreCore
import Foundation
import Hummingbird
import HummingbirdBcrypt
import JWTKit
import NIOPosix
import Synchronization

/// Claims of an Encore access token (HS256 JWT).
struct AccessTokenClaims: JWTPayload {
    var sub: SubjectClaim
    var role: String
    var iat: IssuedAtClaim
    var exp: ExpirationClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Issues and checks access tokens.
struct AccessTokens: Sendable {
    let keys: JWTKeyCollection
    let lifetime: Duration
    /// Tokens already verified, with the user and expiry they carry. Checking a token is pure (signature
    /// and expiry), so its outcome can be remembered; this spares every request the JWT decoding.
    private let verified = BoundedMemo<String, (user: UUID, expiresAt: Date)>(capacity: 50_000)

    init(key: SymmetricKey, lifetime: Duration) async {
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(key: key), digestAlgorithm: .sha256)
        self.lifetime = lifetime
    }

    /// A signed token for `user` and when it expires.
    func issue(for user: User) async throws -> (token: String, expiresAt: Date) {
        let now = Date()
        let expiresAt = now.addingTimeInterval(lifetime.timeInterval)
        let claims = AccessTokenClaims(
            sub: .init(value: user.id.uuidString.lowercased()), role: user.role.rawValue, iat: .init(value: now), exp: .init(value: expiresAt))
        return (try await keys.sign(claims), expiresAt)
    }

    /// The user id a valid token names, or `unauthenticated`.
    func verify(_ token: String) async throws -> UUID {
        if let known = verified[token], Date() < known.expiresAt { return known.user }
        let invalid = EncoreError(.invalidToken, "The bearer token is invalid or has expired.")
        guard let claims = try? await keys.verify(token, as: AccessTokenClaims.self), let id = UUID(uuidString: claims.sub.value) else {
            throw invalid
        }
        verified.remember((id, claims.exp.value), for: token)
        return id
    }
}

/// Requires `Authorization: Bearer <token>` and puts the caller into the context. The user is looked up
/// on every request, so a deleted account or a changed role takes effect at once.
struct AccessTokenMiddleware: RouterMiddleware {
    typealias Context = EncoreRequestContext
    let tokens: AccessTokens
    let accounts: any AccountRepository

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Byte-level: `String.count` and `lowercased()` on a 200-character header cost more than the cached look-ups.
        guard let header = request.headers[.authorization], header.utf8.count > 7,
            header.utf8.prefix(7).elementsEqual("bearer ".utf8, by: { $0 | 0x20 == $1 })  // ASCII case-insensitive
        else {
            throw EncoreError(.unauthenticated, "A bearer token is required: Authorization: Bearer <token>.")
        }
        let id = try await tokens.verify(String(Substring(header.utf8.dropFirst(7)).trimmingHTTPWhitespace))
        // Reads of this request must see this user's own writes, through any instance (see ``ReadScope``).
        ReadScope.current?.subject = id
        guard let user = try await accounts.user(id: id) else {
            throw EncoreError(.invalidToken, "The account behind this token no longer exists.")
        }
        var context = context
        context.principal = Principal(userId: user.id, role: user.role)
        return try await next(request, context)
    }
}

/// bcrypt on NIO's thread pool: a hash takes a quarter of a second at cost 12 and must not stall the
/// cooperative executor that serves requests.
public final class BcryptHasher: PasswordHasher {
    let cost: UInt8
    /// A hash of a random password at the same cost, verified against for unknown accounts; made on
    /// first use, so commands that never log anyone in do not pay for it.
    private let decoy = Mutex<String?>(nil)

    public init(cost: Int) {
        self.cost = UInt8(cost)
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, against hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    public func spendVerificationTime(_ password: String) async {
        let cost = self.cost
        let hash = decoy.withLock { decoy in
            if let decoy { return decoy }
            let made = Bcrypt.hash(UUID().uuidString, cost: cost)
            decoy = made
            return made
        }
        _ = try? await verify(password, against: hash)
    }
}
