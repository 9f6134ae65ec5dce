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
