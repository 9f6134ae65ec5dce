/// Inspects a stored file and says what audio it holds.
public protocol AudioProber: Sendable {
    /// Probes and fully decodes the file at `location` (a path or URL).
    ///
    /// Throws ``EncoreError`` of kind `unprocessable` with code `invalid_audio` and a human reason when the
    /// file is empty, is not audio, or does not decode to its end (truncated, corrupt); `unavailable` when the
    /// tool itself cannot run.
    func probe(_ location: String) async throws -> AudioInfo
}

/// Hashes and checks passwords. The server's implementation is bcrypt.
public protocol PasswordHasher: Sendable {
    func hash(_ password: String) async throws -> String
    func verify(_ password: String, against hash: String) async throws -> Bool
    /// Takes as long as a failed ``verify(_:against:)`` would, so that unknown accounts cannot be told apart by timing.
    func spendVerificationTime(_ password: String) async
}
