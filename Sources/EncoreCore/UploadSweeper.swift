import Foundation

/// Removes uploads never attached to a track or a cover. An upload URL hands out storage; without a
/// sweep, a client that uploads and never calls `POST /tracks` keeps it forever (on S3, at cost).
public struct UploadSweeper: Sendable {
    let blobs: any BlobStore
    /// How long an upload may wait to be attached: far longer than an upload URL lives.
    public let maxAge: Duration

    public init(blobs: any BlobStore, maxAge: Duration) {
        self.blobs = blobs
        self.maxAge = maxAge
    }

    /// Deletes every upload stored more than ``maxAge`` before `now`; returns how many. An upload
    /// attached meanwhile has moved out of `uploads/` already, so it is never touched.
    public func sweep(now: Date = Date()) async throws -> Int {
        let cutoff = now.addingTimeInterval(-maxAge.timeInterval)
        var removed = 0
        for key in try await blobs.list(under: UploadReference.root) {
            guard let info = try await blobs.info(key), info.modifiedAt < cutoff else { continue }
            try await blobs.delete(key)
            removed += 1
        }
        return removed
    }
}
