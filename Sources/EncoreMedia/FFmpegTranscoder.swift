import EncoreCore
import Foundation

/// ``AudioTranscoder`` on one ffmpeg run: the source is decoded once, resampled once to 48 kHz stereo, and
/// split into every rendition plus an EBU R128 measurement.
///
/// The ladder: AAC-LC at 96/160/256 kbps packaged as CMAF (fragmented MP4) segments of about 6 s with an
/// HLS multivariant playlist and a DASH MPD over the same segments; and progressive files: AAC in M4A,
/// MP3 (LAME) and Opus in Ogg at 96/160 and 256 or 320 kbps.
/// - AAC's top rung is 256 kbps, the iTunes Plus rate: AAC-LC is transparent for nearly everyone there.
/// - The Ogg rungs are Opus rather than Vorbis: better quality per bit at every rung, and it is what
///   browsers and Android decode natively. Opus runs at 48 kHz, which is why every rendition does, so
///   segment boundaries line up across variants.
public struct FFmpegTranscoder: AudioTranscoder {
    public struct Rung: Sendable, Equatable {
        public var codec: String
        public var bitrateKbps: Int
    }

    public static let adaptiveLadder = [96, 160, 256].map { Rung(codec: "aac", bitrateKbps: $0) }
    public static let progressiveLadder =
        [96, 160, 256].map { Rung(codec: "aac", bitrateKbps: $0) } + [96, 160, 320].map { Rung(codec: "mp3", bitrateKbps: $0) }
        + [96, 160, 320].map { Rung(codec: "opus", bitrateKbps: $0) }
    public static let segmentSeconds = 6
    public static let sampleRate = 48000

    let ffmpeg: String
    let gzip: String?
    let timeout: Duration

    public init(ffmpeg: String = "ffmpeg", timeout: Duration = .seconds(3600)) throws {
        guard let path = ProcessRunner.find(ffmpeg) else {
            throw EncoreError(.toolUnavailable, "ffmpeg (\(ffmpeg)) was not found: install it (apt-get install ffmpeg) or set ENCORE_FFMPEG.")
        }
        self.ffmpeg = path
        self.gzip = ProcessRunner.find("gzip")
        self.timeout = timeout
    }

    /// The ffmpeg arguments that render `source` into `directory` (`stream/` and `files/`).
    public static func arguments(source: String, directory: String) -> [String] {
        let outputs = adaptiveLadder.count + progressiveLadder.count
        let labels = (0..<outputs).map { "[s\($0)]" }.joined()
        let graph =
            "[0:a:0]asplit=2[measure][encode];[measure]ebur128=peak=true:framelog=verbose,anullsink;"
            + "[encode]aresample=\(sampleRate),aformat=channel_layouts=stereo,asplit=\(outputs)\(labels)"
        var arguments = ["-nostdin", "-hide_banner", "-nostats", "-v", "info", "-y", "-i", source, "-filter_complex", graph]
        for index in adaptiveLadder.indices { arguments += ["-map", "[s\(index)]"] }
        arguments += ["-c:a", "aac"]
        for (index, rung) in adaptiveLadder.enumerated() { arguments += ["-b:a:\(index)", "\(rung.bitrateKbps)k"] }
        arguments += [
            "-f", "dash", "-seg_duration", "\(segmentSeconds)", "-use_template", "1", "-use_timeline", "0", "-hls_playlist", "1",
            "-adaptation_sets", "id=0,streams=a", "-init_seg_name", "init-$RepresentationID$.m4s",
            "-media_seg_name", "seg-$RepresentationID$-$Number%05d$.m4s", directory + "/stream/manifest.mpd",
        ]
        for (offset, rung) in progressiveLadder.enumerated() {
            let label = "[s\(adaptiveLadder.count + offset)]"
            arguments += ["-map", label, "-b:a", "\(rung.bitrateKbps)k"]
            switch rung.codec {
            case "aac": arguments += ["-c:a", "aac", "-movflags", "+faststart"]
            case "mp3": arguments += ["-c:a", "libmp3lame"]
            // Constant bit rate: progressive Opus is chosen by bandwidth, so its rate must be what it says.
            default: arguments += ["-c:a", "libopus", "-vbr", "off"]
            }
            arguments.append(directory + "/" + progressivePath(rung))
        }
        return arguments
    }

    static func progressivePath(_ rung: Rung) -> String {
        let ext = ["aac": "m4a", "mp3": "mp3", "opus": "ogg"][rung.codec] ?? "bin"
        return "files/\(rung.codec)-\(rung.bitrateKbps).\(ext)"
    }

    public func render(source: String, into directory: String) async throws -> RenderedMedia {
        for folder in ["stream", "files"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true)
        }
        let run = try await ProcessRunner.run(ffmpeg, Self.arguments(source: source, directory: directory), timeout: timeout, outputLimit: 4 << 20)
        guard run.exitCode == 0, !run.timedOut else {
            let reason = run.timedOut ? "timed out" : String(decoding: run.stderr.suffix(400), as: UTF8.self)
            throw EncoreError(.transcodeFailed, "ffmpeg failed: \(reason)")
        }
        let loudness = try Self.loudness(fromLog: String(decoding: run.stderr, as: UTF8.self))
        var variants: [RenderedMedia.Variant] = []
        for (index, rung) in Self.adaptiveLadder.enumerated() {
            variants.append(try HLSPlaylists.rewriteMediaPlaylist(directory: directory + "/stream", name: "media_\(index).m3u8", rung: rung))
        }
        try HLSPlaylists.writeMaster(variants, to: directory + "/stream/master.m3u8")
        var files = try FileManager.default.subpathsOfDirectory(atPath: directory).filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        // Playlists are text that compresses ~5×; precompressed copies cost nothing to serve.
        if let gzip {
            let texts = files.filter { $0.hasSuffix(".m3u8") || $0.hasSuffix(".mpd") }.map { directory + "/" + $0 }
            let zipped = try await ProcessRunner.run(gzip, ["-k", "-n", "-9", "-f"] + texts, timeout: .seconds(60))
            if zipped.exitCode == 0 { files += texts.map { String($0.dropFirst(directory.count + 1)) + ".gz" } }
        }
        return RenderedMedia(
            files: files.sorted(), hlsMaster: "stream/master.m3u8", dashManifest: "stream/manifest.mpd",
            variants: variants.map { variant in
                var variant = variant
                variant.playlist = "stream/" + variant.playlist
                return variant
            },
            progressive: Self.progressiveLadder.map { rung in
                RenderedMedia.File(
                    path: Self.progressivePath(rung), format: ["aac": "m4a", "mp3": "mp3", "opus": "ogg"][rung.codec] ?? "bin", codec: rung.codec,
                    bitrateKbps: rung.bitrateKbps)
            },
            loudness: loudness)
    }

    /// Reads the ebur128 filter's summary: `I: -14.2 LUFS` and (true) `Peak: -1.3 dBFS`.
    static func loudness(fromLog log: String) throws -> Loudness {
        guard let summary = log.range(of: "Summary:", options: .backwards) else {
            throw EncoreError(.loudnessMissing, "ffmpeg printed no loudness summary")
        }
        func value(after label: String) -> Double? {
            guard
                let line = log[summary.upperBound...].split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) }
                )
            else { return nil }
            let number = line.split(separator: " ").dropFirst().first.map(String.init) ?? ""
            return number == "-inf" ? -Double.infinity : Double(number)
        }
        guard let integrated = value(after: "I:"), let peak = value(after: "Peak:") else {
            throw EncoreError(.loudnessMissing, "cannot read ffmpeg's loudness summary")
        }
        // Digital silence measures -70 LUFS (the gate) and a peak of -inf: keep numbers JSON can carry.
        return Loudness(integratedLufs: max(integrated, -70), truePeakDbtp: max(peak, -120))
    }
}

/// HLS playlists written by Encore rather than ffmpeg's DASH muxer: VOD media playlists with
/// `EXT-X-PLAYLIST-TYPE`, `EXT-X-ENDLIST` and no wall-clock dates, and a multivariant playlist with
/// measured `BANDWIDTH` (peak segment rate) and `AVERAGE-BANDWIDTH`.
enum HLSPlaylists {
    static func rewriteMediaPlaylist(directory: String, name: String, rung: FFmpegTranscoder.Rung) throws -> RenderedMedia.Variant {
        let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        var map: String?
        var segments: [(duration: Double, uri: String)] = []
        var pending: Double?
        for line in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("#EXT-X-MAP:URI=\"") {
                map = String(line.dropFirst("#EXT-X-MAP:URI=\"".count).prefix { $0 != "\"" })
            } else if line.hasPrefix("#EXTINF:") {
                pending = Double(line.dropFirst("#EXTINF:".count).prefix { $0 != "," })
            } else if !line.isEmpty, !line.hasPrefix("#"), let duration = pending {
                segments.append((duration, line))
                pending = nil
            }
        }
        guard let map, !segments.isEmpty else {
            throw EncoreError(.packagingFailed, "ffmpeg wrote an unexpected \(name)")
        }
        var totalBytes = 0
        var peak = 0.0
        for segment in segments {
            let size = (try FileManager.default.attributesOfItem(atPath: directory + "/" + segment.uri)[.size] as? Int) ?? 0
            totalBytes += size
            if segment.duration > 0.5 { peak = max(peak, Double(size * 8) / segment.duration) }  // a short tail would overstate
        }
        let totalDuration = segments.reduce(0) { $0 + $1.duration }
        var lines = [
            "#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:\(Int(segments.map(\.duration).max()!.rounded(.up)))",
            "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS", "#EXT-X-MAP:URI=\"\(map)\"",
        ]
        for segment in segments { lines += [String(format: "#EXTINF:%.6f,", segment.duration), segment.uri] }
        lines.append("#EXT-X-ENDLIST")
        try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        let average = Int((Double(totalBytes * 8) / max(totalDuration, 0.001)).rounded())
        return RenderedMedia.Variant(
            playlist: name, codec: rung.codec, codecs: "mp4a.40.2", bitrateKbps: rung.bitrateKbps, averageBandwidth: average,
            peakBandwidth: max(Int(peak.rounded()), average))
    }

    static func writeMaster(_ variants: [RenderedMedia.Variant], to path: String) throws {
        var lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
        for variant in variants {
            lines.append(
                "#EXT-X-STREAM-INF:BANDWIDTH=\(variant.peakBandwidth),AVERAGE-BANDWIDTH=\(variant.averageBandwidth),CODECS=\"\(variant.codecs)\"")
            lines.append(variant.playlist)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// ``AudioFingerprinter`` on Chromaprint's `fpcalc`.
public struct FpcalcFingerprinter: AudioFingerprinter {
    let fpcalc: String

    public init(fpcalc: String = "fpcalc") throws {
        guard let path = ProcessRunner.find(fpcalc) else {
            throw EncoreError(
                .toolUnavailable, "fpcalc (\(fpcalc)) was not found: install it (apt-get install libchromaprint-tools) or set ENCORE_FPCALC.")
        }
        self.fpcalc = path
    }

    public func fingerprint(_ location: String) async throws -> AudioFingerprint {
        let run = try await ProcessRunner.run(fpcalc, ["-raw", "-json", location], timeout: .seconds(300))
        struct Output: Decodable {
            var duration: Double
            var fingerprint: [UInt32]
        }
        // fpcalc may complain about the last frame and still print a complete fingerprint.
        let complaint = String(decoding: run.stderr.prefix(300), as: UTF8.self)
        if complaint.contains("Empty fingerprint") {
            return AudioFingerprint(durationSeconds: 0, values: [])  // too short to fingerprint: matches nothing
        }
        guard let output = try? JSONDecoder().decode(Output.self, from: run.stdout) else {
            throw EncoreError(.fingerprintFailed, "fpcalc failed: \(complaint)")
        }
        return AudioFingerprint(durationSeconds: output.duration, values: output.fingerprint)
    }
}
