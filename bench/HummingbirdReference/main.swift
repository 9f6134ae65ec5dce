// The framework's own ceiling, for bench/load.sh: a bare Hummingbird server that answers two fixed routes
// with bytes held in memory: no middleware, no token, no stat, no cache look-up. Comparing Encore with
// it separates what Encore's request path costs from what the HTTP stack underneath costs.
//
//     hummingbird-reference PORT SEGMENT_FILE METADATA_FILE
import Foundation
import Hummingbird
import NIOCore

let arguments = CommandLine.arguments
guard arguments.count == 4, let port = Int(arguments[1]) else {
    FileHandle.standardError.write(Data("usage: hummingbird-reference PORT SEGMENT_FILE METADATA_FILE\n".utf8))
    exit(2)
}
let segment = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: arguments[2])))
let metadata = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: arguments[3])))

let router = Router()
router.get("/segment") { _, _ in Response(status: .ok, headers: [.contentType: "audio/mp4"], body: .init(byteBuffer: segment)) }
router.get("/metadata") { _, _ in
    Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: metadata))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
