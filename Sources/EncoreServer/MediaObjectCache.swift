import CoreMetrics
import EncoreCore
import NIOCore
import Synchronization

/// Small media objects held in memory for the media origin's router path, least recently used first out:
/// playlists and manifests (with their gzip twins), and segments requested with a range or a validator.
/// Plain whole-object requests go to ``MediaSendfileHandler`` instead and never reach this cache.
///
/// Listeners of the same track fetch the same few hundred kilobytes, and a segment read through the
/// thread pool costs several times what sending it does. Entries are keyed by blob key and validated by
/// ETag on every request (a `stat`), so a deleted or re-created object is never served from here.
final class MediaObjectCache: Sendable {
    struct Object: Sendable {
        let bytes: ByteBuffer
        let info: BlobInfo
        /// `Last-Modified`, formatted once.
        let lastModified: String
    }

    /// Bytes held at most.
    let budget: Int
    /// Larger objects (progressive files, originals) are streamed from disk instead.
    let largestObject: Int
    private let state = Mutex(State())
    private let hits: Counter
    private let misses: Counter

    private struct State {
        var objects: [BlobKey: (object: Object, lastUse: UInt64)] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    init(budget: Int, largestObject: Int = 1 << 20, metrics: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.budget = budget
        self.largestObject = min(largestObject, budget)
        hits = Counter(label: "encore_cache_requests_total", dimensions: [("cache", "media"), ("result", "hit")], factory: metrics)
        misses = Counter(label: "encore_cache_requests_total", dimensions: [("cache", "media"), ("result", "miss")], factory: metrics)
    }

    /// The cached object for `info.key` if it still has `info`'s ETag.
    func object(matching info: BlobInfo) -> Object? {
        let found = state.withLock { state -> Object? in
            guard let entry = state.objects[info.key] else { return nil }
            guard entry.object.info.etag == info.etag else {
                state.bytes -= entry.object.bytes.readableBytes
                state.objects[info.key] = nil
                return nil
            }
            state.clock += 1
            state.objects[info.key]?.lastUse = state.clock
            return entry.object
        }
        if found != nil { hits.increment() } else { misses.increment() }
        return found
    }

    /// Reads `key` from `blobs` into the cache; nil when it is missing or too large to cache.
    func load(_ key: BlobKey, from blobs: any MediaFileStore) async throws -> Object? {
        guard budget > 0, let (info, bytes) = try await blobs.contents(of: key, upTo: largestObject) else { return nil }
        let object = Object(bytes: bytes, info: info, lastModified: info.modifiedAt.httpDate)
        state.withLock { state in
            state.clock += 1
            if let previous = state.objects.updateValue((object, state.clock), forKey: key) {
                state.bytes -= previous.object.bytes.readableBytes
            }
            state.bytes += bytes.readableBytes
            guard state.bytes > budget else { return }
            // Evict down to three quarters of the budget in one go, so eviction runs rarely.
            for (victim, entry) in state.objects.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
                guard state.bytes > budget * 3 / 4 else { break }
                state.bytes -= entry.object.bytes.readableBytes
                state.objects[victim] = nil
            }
        }
        return object
    }

    /// Bytes currently held.
    var size: Int { state.withLock { $0.bytes } }
}
