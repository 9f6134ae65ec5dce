import EncoreCore
import Foundation

/// ``CoverRenderer`` on ffmpeg: decoding the image is the validation (a file that ffmpeg cannot decode as
/// one picture is refused), and each thumbnail is one scaled JPEG frame.
public struct FFmpegCoverRenderer: CoverRenderer {
    let ffmpeg: String

    public init(ffmpeg: String = "ffmpeg") throws {
        guard let path = ProcessRunner.find(ffmpeg) else {
            throw EncoreError(.toolUnavailable, "ffmpeg (\(ffmpeg)) was not found: install it (apt-get install ffmpeg) or set ENCORE_FFMPEG.")
        }
        self.ffmpeg = path
    }

    public func renderThumbnails(of source: String, into directory: String) async throws -> [Int] {
        let invalid = EncoreError(.invalidImage, "The cover is not a JPEG, PNG or WebP image that can be decoded.")
        // The declared size first, without decoding (ffmpeg describes its input and stops): a small file can
        // declare a huge picture, and decoding that would take the machine's memory.
        let header = try await ProcessRunner.run(ffmpeg, ["-hide_banner", "-nostdin", "-i", source], timeout: .seconds(30))
        guard let (declaredWidth, declaredHeight) = Self.dimensions(fromLog: String(decoding: header.stderr, as: UTF8.self)) else { throw invalid }
        guard declaredWidth <= Self.maxEdge, declaredHeight <= Self.maxEdge, declaredWidth * declaredHeight <= Self.maxPixels else {
            throw EncoreError(
                .invalidImage,
                "The cover is \(declaredWidth) × \(declaredHeight) pixels; at most \(Self.maxEdge) on a side and 40 megapixels are accepted.")
        }
        let probe = try await ProcessRunner.run(
            ffmpeg, ["-hide_banner", "-nostdin", "-i", source, "-frames:v", "1", "-f", "null", "-"], timeout: .seconds(60))
        let log = String(decoding: probe.stderr, as: UTF8.self)
        guard probe.exitCode == 0, !probe.timedOut, let (width, height) = Self.dimensions(fromLog: log), width > 0, height > 0 else {
            throw invalid
        }
        // Never upscale: a 500 px image gets 64 and 300; the smallest is always made.
        let longest = max(width, height)
        let sizes = CoverArt.standardSizes.enumerated().filter { $0.offset == 0 || $0.element <= longest }.map(\.element)
        for size in sizes {
            let run = try await ProcessRunner.run(
                ffmpeg,
                [
                    "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", source, "-frames:v", "1", "-vf",
                    "scale=\(size):\(size):force_original_aspect_ratio=decrease:flags=lanczos,format=yuvj420p", "-q:v", "3",
                    directory + "/\(size).jpg",
                ], timeout: .seconds(60))
            guard run.exitCode == 0, !run.timedOut else { throw invalid }
        }
        return sizes
    }

    /// The largest picture decoded: 10,000 px on a side, 40 megapixels in all.
    static let maxEdge = 10_000
    static let maxPixels = 40_000_000

    public func extractEmbeddedPicture(from audio: String, to destination: String) async throws -> Bool {
        let run = try await ProcessRunner.run(
            ffmpeg,
            ["-hide_banner", "-nostdin", "-v", "error", "-y", "-i", audio, "-an", "-map", "0:v:0", "-frames:v", "1", "-c:v", "png", destination],
            timeout: .seconds(60))
        // No picture stream (the usual case) is not an error: there is just nothing to use.
        return run.exitCode == 0 && !run.timedOut && FileManager.default.fileExists(atPath: destination)
    }

    /// `WIDTHxHEIGHT` of the first video stream in ffmpeg's input description.
    static func dimensions(fromLog log: String) -> (Int, Int)? {
        for line in log.split(separator: "\n") where line.contains("Video:") {
            for token in line.split(whereSeparator: { $0 == " " || $0 == "," }) {
                let parts = token.split(separator: "x")
                if parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]) { return (width, height) }
            }
        }
        return nil
    }
}
