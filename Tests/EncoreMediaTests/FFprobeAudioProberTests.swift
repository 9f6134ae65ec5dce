import EncoreCore
import EncoreMedia
import Foundation
import Testing

@Suite("FFprobeAudioProber on real ffmpeg output", .timeLimit(.minutes(5)))
struct FFprobeAudioProberTests {
    static func withFile(_ bytes: Data, _ body: (String) async throws -> Void) async throws {
        let path = NSTemporaryDirectory() + "/encore-media-\(UUID().uuidString)"
        try bytes.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await body(path)
    }

    static func encode(_ format: String, seconds: Double = 2, extra: [String] = []) throws -> Data {
        let path = NSTemporaryDirectory() + "/encore-fixture-\(UUID().uuidString).\(format)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = Process()
        run.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        run.arguments = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=330:duration=\(seconds)"] + extra + [path]
        try run.run()
        run.waitUntilExit()
        try #require(run.terminationStatus == 0)
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    @Test("real formats are recognised", arguments: [("flac", "flac"), ("wav", "pcm_s16le"), ("mp3", "mp3"), ("ogg", "vorbis"), ("m4a", "aac")])
    func formats(format: String, codec: String) async throws {
        let prober = try FFprobeAudioProber()
        let bytes = try Self.encode(format, extra: ["-ar", "48000", "-ac", "2"])
        try await Self.withFile(bytes) { path in
            let info = try await prober.probe(path)
            #expect(info.codec == codec)
            #expect(info.sampleRate == 48000)
            #expect(info.channels == 2)
            #expect(abs(info.durationMs - 2000) < 100, "\(info.durationMs)")
            #expect(info.sizeBytes == bytes.count)
        }
    }

    @Test("non-audio, empty, truncated and over-long inputs are refused with a reason")
    func refusals() async throws {
        let prober = try FFprobeAudioProber()
        let flac = try Self.encode("flac", seconds: 10)
        let cases: [(String, Data, String)] = [
            ("empty", Data(), "empty"),
            ("text", Data("just some words, not audio".utf8), "recognisable"),
            ("truncated", flac.prefix(flac.count / 2), "truncated"),
            ("video only", try Self.encode("mp4", extra: ["-f", "lavfi", "-i", "color=c=red:s=64x64:d=1", "-map", "1:v"]), "no audio"),
        ]
        for (name, bytes, reason) in cases {
            try await Self.withFile(bytes) { path in
                do {
                    _ = try await prober.probe(path)
                    Issue.record("\(name) was accepted")
                } catch let error as EncoreError {
                    #expect(error.code == .invalidAudio, "\(name)")
                    #expect(error.message.contains(reason), "\(name): \(error.message)")
                    // The artist reads this: the server's paths stay out of it.
                    #expect(!error.message.contains(path), "\(name): \(error.message)")
                }
            }
        }
        var limits = FFprobeAudioProber.Limits()
        limits.maxDuration = .seconds(5)
        let strict = try FFprobeAudioProber(limits: limits)
        try await Self.withFile(flac) { path in
            await #expect(throws: EncoreError.self) { _ = try await strict.probe(path) }
        }
    }

    @Test("a missing tool is reported as unavailable, not as bad audio")
    func missingTool() {
        #expect(throws: EncoreError.self) { _ = try FFprobeAudioProber(ffprobe: "/nonexistent/ffprobe") }
    }
}

@Suite("ProcessRunner", .timeLimit(.minutes(5)))
struct ProcessRunnerTests {
    @Test func capturesOutputAndExitCode() async throws {
        let result = try await ProcessRunner.run("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], timeout: .seconds(10))
        #expect(result.exitCode == 3)
        #expect(String(decoding: result.stdout, as: UTF8.self) == "out\n")
        #expect(String(decoding: result.stderr, as: UTF8.self) == "err\n")
        #expect(!result.timedOut)
    }

    @Test func killsAtTheDeadline() async throws {
        let start = ContinuousClock.now
        let result = try await ProcessRunner.run("/bin/sleep", ["30"], timeout: .milliseconds(200))
        #expect(result.timedOut)
        #expect(ContinuousClock.now - start < .seconds(20))
    }

    @Test func boundsOutput() async throws {
        let result = try await ProcessRunner.run("/bin/sh", ["-c", "head -c 100000 /dev/zero"], timeout: .seconds(10), outputLimit: 1000)
        #expect(result.stdout.count == 1000)
        #expect(result.exitCode == 0)
    }
}
