import Foundation

/// A failure the domain knows how to describe to a client.
///
/// `code` is one entry of the ``ErrorCode`` catalogue, stable and machine-readable; `message` is for
/// people. The code's ``ErrorCode/kind`` says what sort of failure it is without naming a transport: each
/// API surface maps kinds (or codes) to its own statuses in one place.
public struct EncoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broad class of a failure, independent of HTTP.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// The request is malformed: bad syntax, wrong type, a value out of range.
        case invalidInput
        /// The request's body is in a format this operation does not take.
        case unsupportedFormat
        /// The request is well-formed but its content cannot be processed (e.g. a file that is not audio).
        case unprocessable
        /// No valid credentials were presented.
        case unauthenticated
        /// Credentials are valid but do not allow this action.
        case forbidden
        /// The thing does not exist (or its existence is private to someone else).
        case notFound
        /// The request conflicts with the current state (duplicate email, reused upload, …).
        case conflict
        /// The payload exceeds a configured limit.
        case tooLarge
        /// Too many attempts (failed sign-ins); ``EncoreError/retryAfter`` says when to try again.
        case rateLimited
        /// A dependency (database, disk, ffprobe) is not available right now; retrying later may work.
        case unavailable
        /// A bug or an unexpected failure; details are logged, not returned.
        case internalFailure
    }

    public var code: ErrorCode
    public var message: String
    /// Seconds after which a retry may succeed, when known (rate limits, a dependency coming back).
    public var retryAfter: Int?

    public var kind: Kind { code.kind }

    public init(_ code: ErrorCode, _ message: String, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

extension EncoreError {
    /// `{what}_not_found` with a plain message.
    public static func notFound(_ code: ErrorCode) -> EncoreError {
        let noun = code.rawValue.replacingOccurrences(of: "_not_found", with: "").replacingOccurrences(of: "_", with: " ")
        return EncoreError(code, "No \(noun) with that id.")
    }

    public static let forbidden = EncoreError(.forbidden, "You are not allowed to do this.")
}
