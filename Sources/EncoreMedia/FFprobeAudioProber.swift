import EncoreCore
import Foundation

/// ``AudioProber`` built on ffprobe and ffmpeg: ffprobe says what the file claims to be, then ffmpeg
/// decodes the whole first audio stream, so truncated and corrupt files are caught before they are accepted.
public struct FFprobeAudioProber: AudioProber {
    /// Bounds on what is accepted.
    public struct Limits: Sendable {
        public var maxDuration: Duration = .seconds(4 * 3600)
        public var channels: ClosedRange<Int> = 1...8
        public var sampleRates: ClosedRange<Int> = 8000...384_000
        /// Longest a probe or a decode may run.
        public var timeout: Duration = .seconds(600)

        public init() {}
    }

    let ffprobe: String
    let ffmpeg: String
    let limits: Limits

    /// - Parameters:
    ///   - ffprobe, ffmpeg: executable names (looked up on `PATH`) or paths.
    public init(ffprobe: String = "ffprobe", ffmpeg: String = "ffmpeg", limits: Limits = Limits()) throws {
        guard let probePath = ProcessRunner.find(ffprobe) else {
            throw EncoreError(.toolUnavailable, "ffprobe (\(ffprobe)) was not found: install ffmpeg (apt-get install ffmpeg) or set ENCORE_FFPROBE.")
        }
        guard let mpegPath = ProcessRunner.find(ffmpeg) else {
            throw EncoreError(.toolUnavailable, "ffmpeg (\(ffmpeg)) was not found: install it (apt-get install ffmpeg) or set ENCORE_FFMPEG.")
        }
        self.ffprobe = probePath
        self.ffmpeg = mpegPath
        self.limits = limits
    }

    public func probe(_ location: String) async throws -> AudioInfo {
        let size = try fileSize(location)
        guard size != 0 else { throw Self.invalid("The file is empty.") }

        let probe = try await ProcessRunner.run(
            ffprobe, ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", "-i", location],
            timeout: limits.timeout)
        guard probe.exitCode == 0, !probe.timedOut, let report = try? JSONDecoder().decode(ProbeReport.self, from: probe.stdout) else {
            throw Self.invalid("Not a recognisable audio file (\(Self.firstLine(probe.stderr, naming: location) ?? "unknown format")).")
        }
        guard let stream = report.streams.first(where: { $0.codecType == "audio" }), let codec = stream.codecName else {
            throw Self.invalid("The file contains no audio stream.")
        }
        guard let sampleRate = stream.sampleRate.flatMap(Int.init), limits.sampleRates.contains(sampleRate) else {
            throw Self.invalid("Unsupported sample rate \(stream.sampleRate ?? "unknown").")
        }
        guard let channels = stream.channels, limits.channels.contains(channels) else {
            throw Self.invalid("Unsupported channel count \(stream.channels.map(String.init) ?? "unknown").")
        }
        let declared = (report.format.duration ?? stream.duration).flatMap(Double.init)
        if let declared, declared > limits.maxDuration.timeInterval {
            throw Self.invalid("The audio is longer than the limit of \(Int(limits.maxDuration.timeInterval)) seconds.")
        }

        let decoded = try await decode(location)
        // A file that decodes to clearly less than it declares has lost its end (or its middle).
        if let declared, declared - decoded.seconds > max(1.0, declared * 0.02) {
            let why = decoded.error.map { " (\($0))" } ?? ""
            throw Self.invalid(
                "The file is truncated or corrupt: it declares \(Self.seconds(declared)) s but decoding stops at \(Self.seconds(decoded.seconds)) s\(why)."
            )
        }
        if let error = decoded.error { throw Self.invalid("The audio does not decode (\(error)).") }
        guard decoded.seconds > 0 else { throw Self.invalid("The audio stream holds no decodable samples.") }
        let decodedSeconds = decoded.seconds
        return AudioInfo(
            container: report.format.formatName ?? "unknown", codec: codec,
            durationMs: Int(((declared ?? decodedSeconds) * 1000).rounded()), sampleRate: sampleRate, channels: channels,
            bitRate: (report.format.bitRate ?? stream.bitRate).flatMap(Int.init), sizeBytes: size ?? report.format.size.flatMap(Int.init) ?? 0)
    }

    /// Decodes the first audio stream to nowhere; returns how many seconds decoded and the decoder's
    /// complaint when it stopped on an error.
    private func decode(_ location: String) async throws -> (seconds: Double, error: String?) {
        let run = try await ProcessRunner.run(
            ffmpeg,
            ["-nostdin", "-v", "error", "-xerror", "-i", location, "-map", "0:a:0", "-f", "null", "-progress", "pipe:1", "-nostats", "-"],
            timeout: limits.timeout)
        if run.timedOut { throw Self.invalid("Decoding took longer than \(Int(limits.timeout.timeInterval)) seconds.") }
        let progress = String(decoding: run.stdout, as: UTF8.self)
        let micros = progress.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("out_time_us=") else { return nil }
            return Int(line.dropFirst("out_time_us=".count))
        }.last
        return (Double(max(micros ?? 0, 0)) / 1_000_000, run.exitCode == 0 ? nil : Self.firstLine(run.stderr, naming: location) ?? "decoder error")
    }

    /// The size of a local file, nil for a URL, or an error when a local file is missing.
    private func fileSize(_ location: String) throws -> Int? {
        guard location.hasPrefix("/") else { return nil }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: location), let size = attributes[.size] as? Int else {
            throw EncoreError(.objectNotFound, "The uploaded file is missing.")
        }
        return size
    }

    static func invalid(_ reason: String) -> EncoreError { EncoreError(.invalidAudio, reason) }

    /// The tool's first error line, for the artist to read: without the server's path to the file, which
    /// ffmpeg puts in front of its messages and which is nobody's business outside the server.
    static func firstLine(_ data: Data, naming location: String) -> String? {
        String(decoding: data, as: UTF8.self).split(separator: "\n").first.map { line in
            var text = String(line)
            if text.hasPrefix(location + ": ") { text = String(text.dropFirst(location.count + 2)) }
            return String(text.replacingOccurrences(of: location, with: "the upload").prefix(200))
        }
    }

    static func seconds(_ value: Double) -> String { String(format: "%.2f", value) }
}

/// The parts of `ffprobe -print_format json -show_format -show_streams` that Encore reads.
struct ProbeReport: Decodable {
    struct Stream: Decodable {
        var codecType: String?
        var codecName: String?
        var sampleRate: String?
        var channels: Int?
        var duration: String?
        var bitRate: String?

        enum CodingKeys: String, CodingKey {
            case codecType = "codec_type", codecName = "codec_name", sampleRate = "sample_rate", channels, duration
            case bitRate = "bit_rate"
        }
    }

    struct Format: Decodable {
        var formatName: String?
        var duration: String?
        var size: String?
        var bitRate: String?

        enum CodingKeys: String, CodingKey {
            case formatName = "format_name", duration, size, bitRate = "bit_rate"
        }
    }

    var streams: [Stream]
    var format: Format
}
