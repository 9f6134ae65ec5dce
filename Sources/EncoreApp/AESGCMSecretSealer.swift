import Crypto
import EncoreCore
import Foundation

/// App-password secrets sealed with AES-256-GCM (a fresh nonce per secret, so equal secrets look unequal),
/// and found by an HMAC-SHA256 of the secret; both keys are derived from the master secret.
public struct AESGCMSecretSealer: SecretSealer {
    private let sealing: SymmetricKey
    private let lookup: SymmetricKey

    public init(sealing: SymmetricKey, lookup: SymmetricKey) {
        self.sealing = sealing
        self.lookup = lookup
    }

    public func seal(_ secret: String) throws -> Data {
        guard let combined = try AES.GCM.seal(Data(secret.utf8), using: sealing).combined else {
            throw EncoreError(.internalError, "AES-GCM gave no combined box.")
        }
        return combined
    }

    public func open(_ sealed: Data) -> String? {
        guard let box = try? AES.GCM.SealedBox(combined: sealed), let clear = try? AES.GCM.open(box, using: sealing) else { return nil }
        return String(data: clear, encoding: .utf8)
    }

    public func lookupKey(for secret: String) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data(secret.utf8), using: lookup))
    }
}
