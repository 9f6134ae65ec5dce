import CoreMetrics
import Foundation

/// The media pipeline for one upload, run as a ``TrackProcessingJob``: probe and validate, fingerprint
/// (refusing another artist's recording), render the ladder, store every artifact under a folder of its
/// own, then commit, so that a track is never seen half-ready.
///
/// It is idempotent: a re-run (after a crash) first clears what an earlier attempt stored, and a job
/// whose upload is no longer the track's (deleted or replaced meanwhile) only cleans up.
public struct TrackPipeline: JobHandler {
    let store: any DataStore
    let blobs: any BlobStore
    let prober: any AudioProber
    let fingerprinter: any AudioFingerprinter
    let transcoder: any AudioTranscoder
    /// Takes an upload's embedded picture as its album's cover when the album has none.
    let covers: CoverPipeline?
    /// Where working directories are made; on the same file system as local blobs, so files link in.
    let workDirectory: String
    let log: @Sendable (String) -> Void
    /// Wall time of each ladder render (`encore_transcode_seconds`).
    let transcodeTime: CoreMetrics.Timer

    public init(
        store: any DataStore, blobs: any BlobStore, prober: any AudioProber, fingerprinter: any AudioFingerprinter,
        transcoder: any AudioTranscoder, covers: CoverPipeline? = nil, workDirectory: String, log: @escaping @Sendable (String) -> Void = { _ in },
        metrics: any MetricsFactory = NOOPMetricsHandler.instance
    ) {
        transcodeTime = CoreMetrics.Timer(label: "encore_transcode_seconds", factory: metrics)
        self.covers = covers
        self.store = store
        self.blobs = blobs
        self.prober = prober
        self.fingerprinter = fingerprinter
        self.transcoder = transcoder
        self.workDirectory = workDirectory
        self.log = log
    }

    public func run(_ job: Job) async throws {
        let task = try TrackProcessingJob(payload: job.payload)
        do {
            try await process(task, job: job)
        } catch  where job.attempts >= job.maxAttempts && !(error is CancellationError) {
            // The last attempt: say so on the track instead of leaving it processing forever.
            guard let mediaPrefix = TrackKeys.mediaPrefix(forSource: task.sourceKey) else { throw error }
            try await fail(
                task, mediaPrefix: mediaPrefix, TrackFailure(code: ErrorCode.processingFailed.rawValue, message: "Processing failed: \(error)"))
        }
    }

    private func process(_ task: TrackProcessingJob, job: Job) async throws {
        let started = ContinuousClock.now
        guard let mediaPrefix = TrackKeys.mediaPrefix(forSource: task.sourceKey) else {
            throw PermanentJobFailure("not a source key: \(task.sourceKey)")
        }
        // Read in a transaction, past any read cache: a cached copy may predate the replacement this job is for.
        let current = try await store.transaction { tx in try await tx.tracks.track(id: task.trackId) }
        guard let track = current, track.sourceKey == task.sourceKey else {
            try await blobs.deleteAll(under: mediaPrefix)  // deleted or replaced meanwhile: leave nothing behind
            return
        }

        // One directory per attempt; an earlier attempt's (its worker died) is removed first. The upload is
        // copied in, so the tools read a local file whatever the blob store is.
        let work = try job.workDirectory(under: workDirectory, name: "render")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let source = work + "/source"
        try await blobs.fetch(task.sourceKey, to: source)

        let audio: AudioInfo
        do {
            audio = try await prober.probe(source)
        } catch let error as EncoreError where error.kind == .unprocessable {
            return try await fail(task, mediaPrefix: mediaPrefix, TrackFailure(code: error.code.rawValue, message: error.message))
        }

        let fingerprint = try await fingerprinter.fingerprint(source)
        var linkedTrackId: UUID?
        let candidates = try await store.tracks.fingerprintCandidates(
            durationSeconds: fingerprint.durationSeconds, tolerance: 5, excludingTrack: track.id)
        if let match = candidates.first(where: { $0.fingerprint.similarity(to: fingerprint) >= AudioFingerprint.sameRecordingThreshold }) {
            guard match.artistId == track.artistId else {
                let message = "The audio matches track \(match.trackId.uuidString.lowercased()) of another artist."
                return try await fail(task, mediaPrefix: mediaPrefix, TrackFailure(code: ErrorCode.duplicateAudio.rawValue, message: message))
            }
            linkedTrackId = match.trackId
        }

        let renders = work + "/renditions"
        try FileManager.default.createDirectory(atPath: renders, withIntermediateDirectories: true)
        let renderStarted = ContinuousClock.now
        let rendered = try await transcoder.render(source: source, into: renders)
        transcodeTime.record(since: renderStarted)

        // Anything an earlier, interrupted attempt stored under this folder goes first.
        try await blobs.deleteAll(under: mediaPrefix)
        func key(_ relative: String) throws -> BlobKey {
            guard let key = BlobKey(mediaPrefix.rawValue + "/" + relative) else { throw PermanentJobFailure("bad artifact name \(relative)") }
            return key
        }
        var sizes: [String: Int] = [:]
        for file in rendered.files { sizes[file] = try await blobs.putFile(try key(file), from: renders + "/" + file).size }
        let originalKey = try key("original.\(AudioFormats.fileExtension(container: audio.container, codec: audio.codec))")
        try await blobs.copy(task.sourceKey, to: originalKey)

        let media = TrackMedia(
            prefix: mediaPrefix,
            original: MediaFile(
                format: originalKey.pathExtension ?? "bin", codec: audio.codec, bitrateKbps: nil, key: originalKey, sizeBytes: audio.sizeBytes),
            hlsMaster: try key(rendered.hlsMaster), dashManifest: try key(rendered.dashManifest),
            renditions: try rendered.variants.map { variant in
                AdaptiveRendition(
                    codec: variant.codec, codecs: variant.codecs, bitrateKbps: variant.bitrateKbps, averageBandwidth: variant.averageBandwidth,
                    peakBandwidth: variant.peakBandwidth, playlist: try key(variant.playlist))
            },
            progressive: try rendered.progressive.map { file in
                MediaFile(
                    format: file.format, codec: file.codec, bitrateKbps: file.bitrateKbps, key: try key(file.path), sizeBytes: sizes[file.path] ?? 0)
            },
            loudness: rendered.loudness)

        // Before the commit, so that a track is ready only once its job has nothing left to do (a worker
        // stopped after the commit would otherwise leave the job to run again).
        await covers?.adoptEmbeddedPicture(from: source, albumId: track.albumId, work: work)
        let outcome = ProcessingOutcome.ready(media: media, audio: audio, fingerprint: fingerprint, linkedTrackId: linkedTrackId)
        guard let (before, _) = try await finish(task, outcome: outcome) else {
            try await blobs.deleteAll(under: mediaPrefix)  // the track moved on while we worked
            return
        }
        // Committed: the upload and the media it replaces are no longer referenced.
        try await blobs.delete(task.sourceKey)
        if let previous = before.media?.prefix, previous != mediaPrefix { try await blobs.deleteAll(under: previous) }
        let elapsed = ContinuousClock.now - started
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        log(
            "track \(task.trackId.uuidString.lowercased()) ready in \(milliseconds) ms: \(rendered.files.count) files, \(media.loudness.integratedLufs) LUFS"
        )
    }

    private func fail(_ task: TrackProcessingJob, mediaPrefix: BlobKey, _ failure: TrackFailure) async throws {
        log("track \(task.trackId) failed: \(failure.code): \(failure.message)")
        if try await finish(task, outcome: .failed(failure)) != nil {
            try await blobs.delete(task.sourceKey)
        }
        try await blobs.deleteAll(under: mediaPrefix)
    }

    /// Commits the outcome for the upload, only if the track still waits for that upload (it was not
    /// deleted or replaced meanwhile): the track and its fingerprint change together. (No indexed field
    /// changes here, so the search index is left alone.)
    /// Returns the track before and after, or nil when the outcome is stale.
    private func finish(_ task: TrackProcessingJob, outcome: ProcessingOutcome) async throws -> (before: Track, after: Track)? {
        try await store.transaction { tx -> (before: Track, after: Track)? in
            guard let current = try await tx.tracks.track(id: task.trackId), current.sourceKey == task.sourceKey else { return nil }
            let (before, after) = try await tx.tracks.updateTrack(id: task.trackId) { track in
                track.sourceKey = nil
                track.updatedAt = Date()
                switch outcome {
                case .ready(let media, let audio, _, let linkedTrackId):
                    track.media = media
                    track.audio = audio
                    track.durationMs = audio.durationMs
                    track.status = .ready
                    track.failure = nil
                    track.linkedTrackId = linkedTrackId
                case .failed(let failure):
                    track.failure = failure
                    // A failed replacement leaves the previous media playing.
                    track.status = track.media == nil ? .failed : .ready
                }
            }
            if case .ready(_, _, let fingerprint, _) = outcome {
                try await tx.tracks.saveFingerprint(fingerprint, trackId: task.trackId, artistId: before.artistId)
            }
            return (before, after)
        }
    }
}

/// What the pipeline decided about one upload.
public enum ProcessingOutcome: Sendable {
    case ready(media: TrackMedia, audio: AudioInfo, fingerprint: AudioFingerprint, linkedTrackId: UUID?)
    case failed(TrackFailure)
}
