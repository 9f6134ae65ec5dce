import Foundation

/// Makes album covers: runs ``CoverProcessingJob``s (an uploaded image) and, for the track pipeline, the
/// picture embedded in an upload when its album has no cover yet. Thumbnails go under a new folder and
/// become the cover in one transaction; the folder they replace is removed after the commit.
public struct CoverPipeline: JobHandler {
    let store: any DataStore
    let blobs: any BlobStore
    let renderer: any CoverRenderer
    let workDirectory: String
    let now: @Sendable () -> Date
    let log: @Sendable (String) -> Void

    public init(
        store: any DataStore, blobs: any BlobStore, renderer: any CoverRenderer, workDirectory: String,
        now: @escaping @Sendable () -> Date = { Date() }, log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.store = store
        self.blobs = blobs
        self.renderer = renderer
        self.workDirectory = workDirectory
        self.now = now
        self.log = log
    }

    public func run(_ job: Job) async throws {
        let task = try CoverProcessingJob(payload: job.payload)
        let work = try job.workDirectory(under: workDirectory, name: "cover")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let source = work + "/source"
        do {
            try await blobs.fetch(task.sourceKey, to: source)
        } catch let error as EncoreError where error.kind == .notFound {
            return  // an earlier attempt finished and removed it
        }
        do {
            let installed = try await install(image: source, albumId: task.albumId, work: work, onlyIfMissing: false, attachedAt: task.attachedAt)
            log("album \(task.albumId.uuidString.lowercased()) cover \(installed ? "replaced" : "dropped: the album is gone")")
        } catch let error as EncoreError where error.code == .invalidImage {
            // Not retried: the same bytes will not decode next time. The upload was checked to look like an
            // image when it was attached, so this is a truncated or forged file.
            log("album \(task.albumId.uuidString.lowercased()) cover refused: \(error.message)")
        }
        try await blobs.delete(task.sourceKey)
    }

    /// Uses the picture embedded in `audio` as the album's cover when the album has none. Never throws for
    /// the picture's sake: a track is not failed because its artwork is unusable.
    func adoptEmbeddedPicture(from audio: String, albumId: UUID, work: String) async {
        do {
            guard try await store.catalog.album(id: albumId)?.cover == nil else { return }
            let picture = work + "/embedded.png"
            guard try await renderer.extractEmbeddedPicture(from: audio, to: picture) else { return }
            if try await install(image: picture, albumId: albumId, work: work, onlyIfMissing: true) {
                log("album \(albumId.uuidString.lowercased()) cover taken from an uploaded track")
            }
        } catch {
            log("album \(albumId.uuidString.lowercased()): the embedded picture was not used: \(error)")
        }
    }

    /// Renders thumbnails of `image` and makes them the album's cover (or, with `onlyIfMissing`, only when
    /// it still has none). Returns false, leaving nothing behind, when the album is gone or has a cover.
    func install(image: String, albumId: UUID, work: String, onlyIfMissing: Bool, attachedAt: Date? = nil) async throws -> Bool {
        let thumbnails = work + "/thumbnails-\(UUID().uuidString.lowercased())"
        try FileManager.default.createDirectory(atPath: thumbnails, withIntermediateDirectories: true)
        let sizes = try await renderer.renderThumbnails(of: image, into: thumbnails)
        // Dated by when its image was attached, so that a later attachment always wins, whatever the order
        // the jobs finish in.
        let cover = CoverArt(prefix: CoverKeys.version(albumId: albumId, id: UUID()), sizes: sizes, updatedAt: attachedAt ?? now())
        let replaced: CoverArt??
        do {
            for size in sizes { _ = try await blobs.putFile(cover.key(size: size), from: thumbnails + "/\(size).jpg") }
            replaced = try await store.transaction { tx in
                guard let album = try await tx.catalog.album(id: albumId), !(onlyIfMissing && album.cover != nil) else { return nil }
                if let current = album.cover, current.updatedAt > cover.updatedAt { return nil }  // a newer cover is in place
                let (before, _) = try await tx.catalog.updateAlbum(id: albumId) { $0.cover = cover }
                return .some(before.cover)
            }
        } catch {
            try? await blobs.deleteAll(under: cover.prefix)  // nothing points at these yet: leave nothing behind
            throw error
        }
        guard let replaced else {
            try await blobs.deleteAll(under: cover.prefix)
            return false
        }
        if let previous = replaced?.prefix { try await blobs.deleteAll(under: previous) }
        return true
    }
}
