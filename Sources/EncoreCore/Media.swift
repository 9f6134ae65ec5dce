import Foundation

/// Why processing a track's audio failed, for the artist to read.
public struct TrackFailure: Codable, Sendable, Equatable {
    /// Stable code: `invalid_audio`, `duplicate_audio`, `processing_failed`.
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// Integrated loudness and true peak per ITU-R BS.1770 / EBU R128, and the gain a player should apply.
public struct Loudness: Codable, Sendable, Equatable {
    public var integratedLufs: Double
    public var truePeakDbtp: Double
    /// Gain that brings the track to ``targetLufs`` without pushing the true peak above ``peakCeilingDbtp``.
    public var trackGainDb: Double

    /// Playback target, as the large streaming services use.
    public static let targetLufs = -14.0
    /// Headroom kept below full scale for true peaks.
    public static let peakCeilingDbtp = -1.0

    public init(integratedLufs: Double, truePeakDbtp: Double) {
        self.integratedLufs = integratedLufs
        self.truePeakDbtp = truePeakDbtp
        let toTarget = Self.targetLufs - integratedLufs
        let headroom = Self.peakCeilingDbtp - truePeakDbtp
        trackGainDb = (min(toTarget, headroom) * 100).rounded() / 100
    }
}

/// One stored, directly playable file of a track.
public struct MediaFile: Codable, Sendable, Equatable {
    /// `flac`, `mp3`, `ogg` (Opus), `m4a` (AAC-LC), … as the file extension says.
    public var format: String
    public var codec: String
    /// Nominal bit rate; nil for lossless originals.
    public var bitrateKbps: Int?
    public var key: BlobKey
    public var sizeBytes: Int

    public init(format: String, codec: String, bitrateKbps: Int?, key: BlobKey, sizeBytes: Int) {
        self.format = format
        self.codec = codec
        self.bitrateKbps = bitrateKbps
        self.key = key
        self.sizeBytes = sizeBytes
    }
}

/// One variant of the adaptive (HLS/DASH) ladder.
public struct AdaptiveRendition: Codable, Sendable, Equatable {
    public var codec: String
    /// RFC 6381 codecs string, e.g. `mp4a.40.2`.
    public var codecs: String
    public var bitrateKbps: Int
    /// Measured: total bits over duration.
    public var averageBandwidth: Int
    /// Measured: the largest segment's bit rate.
    public var peakBandwidth: Int
    /// The variant's HLS media playlist.
    public var playlist: BlobKey

    public init(codec: String, codecs: String, bitrateKbps: Int, averageBandwidth: Int, peakBandwidth: Int, playlist: BlobKey) {
        self.codec = codec
        self.codecs = codecs
        self.bitrateKbps = bitrateKbps
        self.averageBandwidth = averageBandwidth
        self.peakBandwidth = peakBandwidth
        self.playlist = playlist
    }
}

/// Everything the pipeline committed for a track: what streaming serves.
public struct TrackMedia: Codable, Sendable, Equatable {
    /// The folder under `tracks/{id}/` that holds this set; a replacement writes a new one.
    public var prefix: BlobKey
    /// The upload as it arrived, untouched.
    public var original: MediaFile
    public var hlsMaster: BlobKey
    public var dashManifest: BlobKey
    public var renditions: [AdaptiveRendition]
    public var progressive: [MediaFile]
    public var loudness: Loudness

    public init(
        prefix: BlobKey, original: MediaFile, hlsMaster: BlobKey, dashManifest: BlobKey, renditions: [AdaptiveRendition],
        progressive: [MediaFile], loudness: Loudness
    ) {
        self.prefix = prefix
        self.original = original
        self.hlsMaster = hlsMaster
        self.dashManifest = dashManifest
        self.renditions = renditions
        self.progressive = progressive
        self.loudness = loudness
    }
}

/// A Chromaprint fingerprint: one 32-bit sub-fingerprint per ~0.124 s of audio.
public struct AudioFingerprint: Sendable, Equatable {
    public var durationSeconds: Double
    public var values: [UInt32]

    public init(durationSeconds: Double, values: [UInt32]) {
        self.durationSeconds = durationSeconds
        self.values = values
    }

    /// Share of equal bits between the two fingerprints at the best alignment within a few seconds
    /// (1 = identical, ~0.5 = unrelated audio).
    public func similarity(to other: AudioFingerprint) -> Double {
        guard !values.isEmpty, !other.values.isEmpty else { return 0 }
        var best = 0.0
        for shift in -24...24 {  // ±3 s: a re-encode or a trimmed silence moves the alignment a little
            var equalBits = 0
            var compared = 0
            for index in values.indices {
                let otherIndex = index + shift
                guard other.values.indices.contains(otherIndex) else { continue }
                equalBits += 32 - (values[index] ^ other.values[otherIndex]).nonzeroBitCount
                compared += 32
            }
            // Overlaps shorter than half of the shorter fingerprint say little.
            guard compared * 2 >= min(values.count, other.values.count) * 32 else { continue }
            best = max(best, Double(equalBits) / Double(compared))
        }
        return best
    }

    /// At or above this similarity two fingerprints are taken to be the same recording. A lossy re-encode
    /// of one recording scores about 0.99; different recordings in the same key and noise floor, about 0.89.
    public static let sameRecordingThreshold = 0.95
}

/// The output of one transcoding run, as files in a working directory.
public struct RenderedMedia: Sendable, Equatable {
    public struct File: Sendable, Equatable {
        /// Relative to the working directory.
        public var path: String
        public var format: String
        public var codec: String
        public var bitrateKbps: Int?

        public init(path: String, format: String, codec: String, bitrateKbps: Int?) {
            self.path = path
            self.format = format
            self.codec = codec
            self.bitrateKbps = bitrateKbps
        }
    }

    public struct Variant: Sendable, Equatable {
        public var playlist: String
        public var codec: String
        public var codecs: String
        public var bitrateKbps: Int
        public var averageBandwidth: Int
        public var peakBandwidth: Int

        public init(playlist: String, codec: String, codecs: String, bitrateKbps: Int, averageBandwidth: Int, peakBandwidth: Int) {
            self.playlist = playlist
            self.codec = codec
            self.codecs = codecs
            self.bitrateKbps = bitrateKbps
            self.averageBandwidth = averageBandwidth
            self.peakBandwidth = peakBandwidth
        }
    }

    /// Every file to store, relative to the working directory.
    public var files: [String]
    public var hlsMaster: String
    public var dashManifest: String
    public var variants: [Variant]
    public var progressive: [File]
    public var loudness: Loudness

    public init(files: [String], hlsMaster: String, dashManifest: String, variants: [Variant], progressive: [File], loudness: Loudness) {
        self.files = files
        self.hlsMaster = hlsMaster
        self.dashManifest = dashManifest
        self.variants = variants
        self.progressive = progressive
        self.loudness = loudness
    }
}

/// Turns one source file into the streaming ladder: adaptive renditions packaged for HLS and DASH,
/// progressive files, and a loudness measurement, decoding the source once.
public protocol AudioTranscoder: Sendable {
    func render(source: String, into directory: String) async throws -> RenderedMedia
}

/// Computes acoustic fingerprints.
public protocol AudioFingerprinter: Sendable {
    func fingerprint(_ location: String) async throws -> AudioFingerprint
}
