import Foundation

/// A password for one app (a Subsonic client, say), separate from the login password: apps that hash
/// a password with a salt on every request (Subsonic's token scheme) need the clear secret on the server,
/// which a bcrypt hash cannot give. So these secrets are random, shown once, revocable one by one, and
/// kept encrypted at rest.
public struct AppPassword: Sendable, Equatable {
    public var id: UUID
    public var userId: UUID
    /// What the user called it ("Symfonium on my phone").
    public var name: String
    public var createdAt: Date
    public var lastUsedAt: Date?

    public init(id: UUID, userId: UUID, name: String, createdAt: Date, lastUsedAt: Date?) {
        self.id = id
        self.userId = userId
        self.name = name
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}

/// Encrypts app-password secrets for storage and decrypts them to check a request. Implementations use
/// authenticated encryption with a key derived from the master secret, so a stolen database alone gives
/// no secret, and a tampered row is refused.
public protocol SecretSealer: Sendable {
    func seal(_ secret: String) throws -> Data
    /// The secret, or nil when `sealed` was not sealed with this key or was changed.
    func open(_ sealed: Data) -> String?
    /// A keyed hash of the secret, to find its row when a client sends the secret alone (an API key).
    func lookupKey(for secret: String) -> Data
}

/// Stored app passwords with their sealed secrets.
public protocol AppPasswordRepository: Sendable {
    func insertAppPassword(_ password: AppPassword, sealedSecret: Data, lookupKey: Data) async throws
    /// A user's app passwords, oldest first, with their sealed secrets.
    func appPasswords(userId: UUID) async throws -> [(password: AppPassword, sealedSecret: Data)]
    /// The app password whose secret has this lookup key, with its sealed secret.
    func appPassword(lookupKey: Data) async throws -> (password: AppPassword, sealedSecret: Data)?
    /// Removes one of the user's app passwords; false when there was none with that id.
    func deleteAppPassword(id: UUID, userId: UUID) async throws -> Bool
    func markAppPasswordUsed(id: UUID, at time: Date) async throws
}

/// Creating, listing, revoking and checking app passwords.
public struct AppPasswordService: Sendable {
    let environment: ServiceEnvironment
    let sealer: any SecretSealer
    let throttle: LoginThrottle
    var store: any DataStore { environment.store }

    /// Most app passwords one account may hold.
    public static let maxPerUser = 50

    /// Creates an app password; the secret is returned this once and never again.
    public func create(_ principal: Principal, name: String) async throws -> (password: AppPassword, secret: String) {
        let name = try Validate.text(name, field: .name, maxLength: 100)
        guard try await store.appPasswords.appPasswords(userId: principal.userId).count < Self.maxPerUser else {
            throw EncoreError(.appPasswordLimit, "An account holds at most \(Self.maxPerUser) app passwords; revoke one first.")
        }
        let secret = Self.newSecret()
        let password = AppPassword(id: UUID(), userId: principal.userId, name: name, createdAt: environment.now(), lastUsedAt: nil)
        try await store.appPasswords.insertAppPassword(password, sealedSecret: try sealer.seal(secret), lookupKey: sealer.lookupKey(for: secret))
        return (password, secret)
    }

    public func list(_ principal: Principal) async throws -> [AppPassword] {
        try await store.appPasswords.appPasswords(userId: principal.userId).map(\.password)
    }

    public func revoke(_ principal: Principal, id: UUID) async throws {
        guard try await store.appPasswords.deleteAppPassword(id: id, userId: principal.userId) else {
            throw EncoreError.notFound(.appPasswordNotFound)
        }
    }

    /// The account and app password for which `matches` accepts the clear secret (the client sent it, or a
    /// hash of it: the caller's test decides), or nil. Unknown accounts and wrong secrets look alike; both
    /// count toward the account's sign-in limit, shared with the login password (throws `too_many_attempts`).
    public func authenticate(email: String, client: String? = nil, matches: (String) -> Bool) async throws -> (user: User, password: AppPassword)? {
        let attempted = email
        try throttle.attempt(attempted, client: client)
        guard let email = try? Validate.email(email), let user = try await store.accounts.credentials(email: email)?.user else {
            // About the work of a known account with one app password, so timing does not tell which exist.
            _ = sealer.open(Self.decoy)
            _ = matches(Self.decoySecret)
            return nil
        }
        for (password, sealed) in try await store.appPasswords.appPasswords(userId: user.id) {
            guard let secret = sealer.open(sealed), matches(secret) else { continue }
            try await markUsed(password)
            throttle.succeeded(attempted, client: client)
            return (user, password)
        }
        return nil
    }

    private static let decoy = Data(repeating: 0x5A, count: 60)
    private static let decoySecret = String(repeating: "a", count: 32)

    /// The account and app password of a secret sent alone (an OpenSubsonic API key), or nil.
    public func authenticate(apiKey: String) async throws -> (user: User, password: AppPassword)? {
        guard let (password, sealed) = try await store.appPasswords.appPassword(lookupKey: sealer.lookupKey(for: apiKey)),
            sealer.open(sealed) == apiKey, let user = try await store.accounts.user(id: password.userId)
        else { return nil }
        try await markUsed(password)
        return (user, password)
    }

    /// How stale `lastUsedAt` may be: apps authenticate every request, and a write per stream or cover
    /// would make reads cost writes.
    public static let lastUsedResolution: TimeInterval = 300

    private func markUsed(_ password: AppPassword) async throws {
        let time = environment.now()
        if let last = password.lastUsedAt, time.timeIntervalSince(last) < Self.lastUsedResolution { return }
        try await store.appPasswords.markAppPasswordUsed(id: password.id, at: time)
    }

    static func newSecret() -> String {
        // 32 characters of base32 (a-z, 2-7): 160 random bits, easy to type into a phone.
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var generator = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in alphabet[Int(generator.next() % 32)] })
    }
}
