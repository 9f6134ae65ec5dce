import Foundation
import Synchronization

/// What one request has to see, and what it wrote: how a client reads its own writes when reads go to
/// replicas that lag behind the primary.
///
/// The HTTP layer opens a scope per request (``current``) with the write position the client says it has
/// seen (the `Encore-Read-After` header or cookie Encore answered its last write with) and, once the caller
/// is known, who it is. A store with replicas serves the request's reads from a replica only when that
/// replica has replayed at least that position and every write this user made through any instance
/// (which the instances tell each other); otherwise from the primary. After a write it records the
/// position in the scope, for the HTTP layer to answer. Stores without replicas ignore all of it.
public final class ReadScope: Sendable {
    /// The scope of the request the current task serves, if any.
    @TaskLocal public static var current: ReadScope?

    /// The position the client presented: an opaque token a store made (PostgreSQL's WAL position).
    public let presentedPosition: String?
    private let state = Mutex<(subject: UUID?, written: String?)>((nil, nil))

    public init(presentedPosition: String?) {
        self.presentedPosition = presentedPosition.flatMap { $0.isEmpty || $0.utf8.count > 64 ? nil : $0 }
    }

    /// The user the request acts for, once authentication has found them.
    public var subject: UUID? {
        get { state.withLock { $0.subject } }
        set { state.withLock { $0.subject = newValue } }
    }

    /// The position after this request's last committed write, if it wrote.
    public var writtenPosition: String? { state.withLock { $0.written } }

    /// Called by a store after a commit.
    public func recordWrite(at position: String) {
        state.withLock { $0.written = position }
    }
}
