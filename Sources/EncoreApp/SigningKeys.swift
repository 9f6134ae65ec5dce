import Crypto
import Foundation

/// The keys Encore signs with, each derived from one master secret (HKDF-SHA256) so that a token of one
/// kind can never pass for another.
public struct SigningKeys: Sendable {
    public let accessTokens: SymmetricKey
    public let mediaURLs: SymmetricKey
    public let appPasswords: SymmetricKey
    public let appPasswordLookup: SymmetricKey

    init(master: SymmetricKey) {
        accessTokens = Self.derive(master, purpose: "encore access tokens v1")
        mediaURLs = Self.derive(master, purpose: "encore media urls v1")
        appPasswords = Self.derive(master, purpose: "encore app passwords v1")
        appPasswordLookup = Self.derive(master, purpose: "encore app password lookup v1")
    }

    private static func derive(_ master: SymmetricKey, purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: master, info: Data(purpose.utf8), outputByteCount: 32)
    }

    /// The configured secret, or the one in `secret.key` in the data directory, created (mode 0600) on first start.
    public static func load(configured: String?, dataDirectory: String) throws -> SigningKeys {
        if let configured {
            guard configured.utf8.count >= 32 else { throw ConfigurationError("ENCORE_SECRET must be at least 32 characters") }
            return SigningKeys(master: SymmetricKey(data: Data(configured.utf8)))
        }
        let path = dataDirectory + "/secret.key"
        if let existing = FileManager.default.contents(atPath: path) {
            guard let text = String(data: existing, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
                let bytes = Data(hex: text), bytes.count >= 32
            else { throw ConfigurationError("\(path) is not a hex-encoded secret of at least 32 bytes") }
            return SigningKeys(master: SymmetricKey(data: bytes))
        }
        let fresh = SymmetricKey(size: .bits256)
        let hex = fresh.withUnsafeBytes { Data($0) }.map { String(format: "%02x", $0) }.joined()
        // Created with 0600 from the start: never readable by others, not even for a moment.
        guard FileManager.default.createFile(atPath: path, contents: Data((hex + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError("cannot write \(path)")
        }
        return SigningKeys(master: fresh)
    }
}

extension Data {
    init?(hex: String) {
        guard hex.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
