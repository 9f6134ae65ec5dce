import EncoreCore
import Foundation
import Testing

/// What every ``SecretSealer`` must do; the AES-GCM sealer and the test-only one both run it.
public enum SecretSealerContract {
    /// `make` gives a sealer with a fresh key on each call.
    public static func check(_ make: () -> any SecretSealer) throws {
        let sealer = make()
        let secret = "abcdefghijklmnopqrstuvwxyz234567"
        let sealed = try sealer.seal(secret)
        #expect(sealer.open(sealed) == secret)
        #expect(try sealer.seal(secret) != sealed)  // a fresh nonce each time
        #expect(sealed.range(of: Data(secret.utf8)) == nil)  // no clear text at rest
        for index in [0, sealed.count / 2, sealed.count - 1] {
            var tampered = sealed
            tampered[index] ^= 0x01
            #expect(sealer.open(tampered) == nil, "byte \(index) changed")
        }
        #expect(sealer.open(Data()) == nil)
        #expect(make().open(sealed) == nil)  // another key
        #expect(sealer.lookupKey(for: secret) == sealer.lookupKey(for: secret))
        #expect(sealer.lookupKey(for: secret) != sealer.lookupKey(for: secret + "x"))
        #expect(make().lookupKey(for: secret) != sealer.lookupKey(for: secret))
    }
}

/// A sealer for the services' tests: it keeps the contract above (authenticated, nonce per seal, keyed)
/// with a toy cipher, so that EncoreTestSupport needs no crypto library. Never for real secrets.
public struct TestOnlySealer: SecretSealer {
    private let key = UInt64.random(in: .min ... .max)

    public init() {}

    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private func keystream(_ nonce: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: Self.mix(key ^ nonce &+ UInt64($0))) }
    }

    private func tag(_ bytes: some Sequence<UInt8>) -> UInt64 {
        bytes.reduce(Self.mix(key)) { Self.mix($0 ^ UInt64($1)) }
    }

    private static func bytes(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    public func seal(_ secret: String) throws -> Data {
        let nonce = UInt64.random(in: .min ... .max)
        let clear = Array(secret.utf8)
        let body = Self.bytes(nonce) + zip(clear, keystream(nonce, count: clear.count)).map { $0 ^ $1 }
        return Data(body + Self.bytes(tag(body)))
    }

    public func open(_ sealed: Data) -> String? {
        let bytes = [UInt8](sealed)
        guard bytes.count >= 16 else { return nil }
        let body = bytes.dropLast(8)
        guard Array(bytes.suffix(8)) == Self.bytes(tag(body)) else { return nil }
        let nonce = body.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        let cipher = Array(body.dropFirst(8))
        return String(decoding: zip(cipher, keystream(nonce, count: cipher.count)).map { $0 ^ $1 }, as: UTF8.self)
    }

    public func lookupKey(for secret: String) -> Data { Data(Self.bytes(tag(Array("lookup".utf8) + Array(secret.utf8)))) }
}
