import Foundation

/// An album's cover: square-bounded JPEG thumbnails rendered once from the uploaded (or embedded) image,
/// under a folder of their own so that a replacement never overwrites what is being served.
public struct CoverArt: Codable, Sendable, Equatable {
    /// The thumbnail edges rendered (the longer side, in pixels), when the source is at least that large.
    public static let standardSizes = [64, 300, 600, 1200]
    /// Largest cover image accepted.
    public static let maxUploadBytes = 10 << 20

    /// `covers/{albumId}/{version}`.
    public var prefix: BlobKey
    /// The sizes present, ascending; the smallest standard size is always there.
    public var sizes: [Int]
    public var updatedAt: Date

    public init(prefix: BlobKey, sizes: [Int], updatedAt: Date) {
        self.prefix = prefix
        self.sizes = sizes.sorted()
        self.updatedAt = updatedAt
    }

    public func key(size: Int) -> BlobKey { prefix.appending("\(size).jpg")! }

    /// The smallest thumbnail at least `size` pixels, else the largest there is; the largest when nil.
    public func size(atLeast size: Int?) -> Int {
        guard let size, let fitting = sizes.first(where: { $0 >= size }) else { return sizes.last ?? Self.standardSizes[0] }
        return fitting
    }
}

/// Where covers live in the blob store: everything under `covers/{albumId}/`.
public enum CoverKeys {
    public static func prefix(of albumId: UUID) -> BlobKey { BlobKey("covers/\(albumId.uuidString.lowercased())")! }

    /// Where an uploaded image waits for the cover job.
    public static func source(albumId: UUID, uploadId: UUID) -> BlobKey {
        prefix(of: albumId).appending("source-\(uploadId.uuidString.lowercased())")!
    }

    /// The thumbnails made from one source (or from a track's embedded picture).
    public static func version(albumId: UUID, id: UUID) -> BlobKey { prefix(of: albumId).appending(id.uuidString.lowercased())! }
}

/// Image formats accepted for covers, recognised by their first bytes before the job decodes them fully.
public enum CoverImageFormat: String, Sendable {
    case jpeg, png, webp

    public init?(magic bytes: [UInt8]) {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if bytes.count >= 12, bytes[0..<4].elementsEqual(Array("RIFF".utf8)), bytes[8..<12].elementsEqual(Array("WEBP".utf8)) {
            self = .webp
        } else {
            return nil
        }
    }
}

/// Decodes images and renders thumbnails (ffmpeg in production).
public protocol CoverRenderer: Sendable {
    /// Decodes `source` and writes `{size}.jpg` into `directory` for each standard size up to the image's
    /// own (always the smallest); returns the sizes written. Throws `invalid_image` when it is no image.
    func renderThumbnails(of source: String, into directory: String) async throws -> [Int]
    /// Writes the picture embedded in an audio file to `destination`; false when it has none.
    func extractEmbeddedPicture(from audio: String, to destination: String) async throws -> Bool
}

/// The job that turns an uploaded cover image into thumbnails and makes them the album's cover.
public struct CoverProcessingJob: Codable, Sendable, Equatable {
    public static let kind = "cover.process"
    public var albumId: UUID
    public var sourceKey: BlobKey
    /// When the image was attached: a job never replaces a cover attached after its own (jobs can finish
    /// out of order, or run again after a crash).
    public var attachedAt: Date?

    public init(albumId: UUID, sourceKey: BlobKey, attachedAt: Date? = nil) {
        self.albumId = albumId
        self.sourceKey = sourceKey
        self.attachedAt = attachedAt
    }

    public init(payload: String) throws {
        self = try JSONDecoder().decode(Self.self, from: Data(payload.utf8))
    }

    public var request: JobRequest {
        JobRequest(kind: Self.kind, payload: String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self))
    }
}
