import Foundation

/// Who is making a request: the authenticated user's id and role.
public struct Principal: Sendable, Equatable {
    public var userId: UUID
    public var role: Role

    public init(userId: UUID, role: Role) {
        self.userId = userId
        self.role = role
    }

    public var isAdmin: Bool { role == .admin }

    /// Artists and admins publish; listeners only listen.
    public var canPublish: Bool { role == .artist || role == .admin }

    /// The owner of a thing, or an admin, may change it.
    public func mayModify(ownedBy ownerId: UUID) -> Bool { isAdmin || ownerId == userId }

    /// Throws `forbidden` unless ``canPublish``.
    public func requirePublisher() throws {
        guard canPublish else {
            throw EncoreError(.artistRoleRequired, "Only artist accounts can do this.")
        }
    }

    /// Throws `forbidden` unless ``mayModify(ownedBy:)``.
    public func requireOwnership(of ownerId: UUID) throws {
        guard mayModify(ownedBy: ownerId) else { throw EncoreError.forbidden }
    }
}
