import Foundation

/// Accounts: sign-up, sign-in, the caller's own account.
public struct AccountService: Sendable {
    let environment: ServiceEnvironment
    let hasher: any PasswordHasher
    let throttle: LoginThrottle
    var store: any DataStore { environment.store }

    /// Creates an account. `admin` accounts are not created this way (see ``createAdmin(email:password:displayName:)``).
    public func register(email: String, password: String, displayName: String, role: Role) async throws -> User {
        guard role != .admin else {
            throw EncoreError(.invalidRole, "role must be listener or artist; admins are created from the command line.")
        }
        return try await createUser(email: email, password: password, displayName: displayName, role: role)
    }

    /// Creates an administrator account (for the command line, never reachable over HTTP).
    public func createAdmin(email: String, password: String, displayName: String) async throws -> User {
        try await createUser(email: email, password: password, displayName: displayName, role: .admin)
    }

    private func createUser(email: String, password: String, displayName: String, role: Role) async throws -> User {
        let email = try Validate.email(email)
        let password = try Validate.password(password)
        let displayName = try Validate.text(displayName, field: .displayName, maxLength: 100)
        let hash = try await hasher.hash(password)
        let time = environment.now()
        let user = User(id: UUID(), email: email, displayName: displayName, role: role, createdAt: time, updatedAt: time)
        try await store.accounts.insertUser(user, passwordHash: hash)
        return user
    }

    /// Checks credentials. Unknown emails cost as much time as wrong passwords, so responses do not reveal
    /// which accounts exist.
    /// Failed attempts count toward the account's sign-in limit from `client` (its address).
    public func login(email: String, password: String, client: String? = nil) async throws -> User {
        let invalid = EncoreError(.invalidCredentials, "Email or password is wrong.")
        let attempted = email
        try throttle.attempt(attempted, client: client)
        guard let email = try? Validate.email(email), let found = try await store.accounts.credentials(email: email) else {
            await hasher.spendVerificationTime(password)
            throw invalid
        }
        guard try await hasher.verify(password, against: found.passwordHash) else { throw invalid }
        throttle.succeeded(attempted, client: client)
        return found.user
    }

    public func user(_ principal: Principal) async throws -> User {
        guard let user = try await store.accounts.user(id: principal.userId) else { throw EncoreError.notFound(.userNotFound) }
        return user
    }

    /// Changes the caller's own account. A new password or email requires the current password.
    public func updateUser(
        _ principal: Principal, displayName: String?, email: String?, newPassword: String?, currentPassword: String?
    ) async throws -> User {
        let displayName = try displayName.map { try Validate.text($0, field: .displayName, maxLength: 100) }
        let email = try email.map(Validate.email)
        let newPassword = try newPassword.map(Validate.password)
        var newHash: String?
        if email != nil || newPassword != nil {
            let current = try await user(principal)
            guard let currentPassword, let found = try await store.accounts.credentials(email: current.email),
                try await hasher.verify(currentPassword, against: found.passwordHash)
            else {
                throw EncoreError(.currentPasswordRequired, "Changing email or password needs the correct currentPassword.")
            }
            if let newPassword { newHash = try await hasher.hash(newPassword) }
        }
        let time = environment.now()
        return try await store.accounts.updateUser(id: principal.userId, newPasswordHash: newHash) { user in
            if let displayName { user.displayName = displayName }
            if let email { user.email = email }
            user.updatedAt = time
        }
    }

    /// Deletes the caller's account with everything it owns, stored audio included.
    public func deleteUser(_ principal: Principal) async throws {
        let removed = try await store.transaction { tx in
            let removed = try await tx.accounts.deleteUser(id: principal.userId)
            try await tx.searchIndex.removed(removed.all)
            return removed
        }
        try await environment.removeObjects(of: removed)
        // Uploads never attached to a track belong to nobody once the account is gone.
        try await environment.blobs.deleteAll(under: UploadReference.prefix(of: principal.userId))
    }

    /// Address of the account that owns imported artists when no owner is named.
    public static let importAccountEmail = "catalog-import@encore.invalid"

    /// The account that owns imported artists: the one named by `email`, or a dedicated import account
    /// (which cannot log in: its password hash is no bcrypt hash, so no password matches).
    public func importOwner(email: String?) async throws -> UUID {
        if let email {
            guard let found = try await store.accounts.credentials(email: try Validate.email(email)) else {
                throw EncoreError(.userNotFound, "No account with email \(email).")
            }
            return found.user.id
        }
        if let found = try await store.accounts.credentials(email: Self.importAccountEmail) { return found.user.id }
        let time = environment.now()
        let user = User(id: UUID(), email: Self.importAccountEmail, displayName: "Catalog import", role: .artist, createdAt: time, updatedAt: time)
        try await store.accounts.insertUser(user, passwordHash: "!" + UUID().uuidString)
        return user.id
    }
}
