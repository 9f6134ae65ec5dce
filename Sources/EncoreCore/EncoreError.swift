import Foundation

/// A failure the domain knows how to describe to a client.
///
/// `code` is stable and machine-readable (`album_not_found`, `invalid_audio`, …); `message` is for people.
/// `kind` says what sort of failure it is without naming a transport: the server maps it to an HTTP status.
public struct EncoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broad class of a failure, independent of HTTP.
    public enum Kind: String, Sendable, Equatable {
        /// The request is malformed: bad syntax, wrong type, a value out of range.
        case invalidInput
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
        /// A dependency (database, disk, ffprobe) is not available right now.
        case unavailable
        /// A bug or an unexpected failure; details are logged, not returned.
        case internalFailure
    }

    public var kind: Kind
    public var code: String
    public var message: String

    public init(_ kind: Kind, code: String, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension EncoreError {
    public static func invalid(_ code: String = "invalid_input", _ message: String) -> EncoreError {
        EncoreError(.invalidInput, code: code, message: message)
    }

    public static func notFound(_ what: String) -> EncoreError {
        EncoreError(.notFound, code: "\(what)_not_found", message: "No \(what.replacingOccurrences(of: "_", with: " ")) with that id.")
    }

    public static let forbidden = EncoreError(.forbidden, code: "forbidden", message: "You are not allowed to do this.")

    public static func conflict(_ code: String, _ message: String) -> EncoreError {
        EncoreError(.conflict, code: code, message: message)
    }

    public static func unprocessable(_ code: String, _ message: String) -> EncoreError {
        EncoreError(.unprocessable, code: code, message: message)
    }
}
