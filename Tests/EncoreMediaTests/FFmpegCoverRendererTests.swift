import EncoreCore
import Foundation
import Testing

@testable import EncoreMedia

@Suite("Cover thumbnails with ffmpeg")
struct FFmpegCoverRendererTests {
    /// A PNG of `width` × `height` as its header declares it, with a few bytes of picture data. (ffmpeg itself
    /// refuses sizes past about 16k on a side; below that, only our limit stands between a 200-byte file and
    /// gigabytes of decoded frame.)
    static func png(width: UInt32, height: UInt32) -> Data {
        func crc32(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            return ~crc
        }
        func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        func chunk(_ kind: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(kind.utf8) + data
            return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
        }
        let header = bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0]
        // A stored (uncompressed) zlib stream of a few zero bytes: valid framing, far too little picture.
        let idat: [UInt8] = [0x78, 0x01, 0x01, 0x04, 0x00, 0xFB, 0xFF, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x01]
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", idat) + chunk("IEND", []))
    }

    @Test("a small file declaring a huge picture is refused before it is decoded")
    func decompressionBomb() async throws {
        let renderer = try FFmpegCoverRenderer()
        let directory = NSTemporaryDirectory() + "encore-cover-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.png(width: 9000, height: 9000).write(to: URL(fileURLWithPath: directory + "/bomb.png"))
        do {
            _ = try await renderer.renderThumbnails(of: directory + "/bomb.png", into: directory)
            Issue.record("an 81-megapixel picture was decoded")
        } catch let error as EncoreError {
            #expect(error.code == .invalidImage)
            #expect(error.message.contains("9000 × 9000"), "\(error.message)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/64.jpg"))
    }
}
