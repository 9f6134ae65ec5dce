import EncoreCore
import Foundation
import NIOCore
import Synchronization

/// The API contract, `openapi.json` next to this file, shipped as a resource of the module and served
/// at `/openapi.json`. Tests run schemathesis against a live server with it.
enum OpenAPIDocument {
    private static let loaded = Mutex<ByteBuffer?>(nil)

    /// The document's bytes, read once.
    static func bytes() throws -> ByteBuffer {
        if let cached = loaded.withLock({ $0 }) { return cached }
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            throw EncoreError(.internalError, "The OpenAPI document is missing from this build.")
        }
        let buffer = ByteBuffer(bytes: data)
        loaded.withLock { $0 = buffer }
        return buffer
    }
}
