import EncoreApp
import EncoreServer
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Media pipeline: ladder, packaging, loudness, fingerprints, crash safety", .timeLimit(.minutes(10)))
struct PipelineTests {
    /// Seconds of audio `ffmpeg` decodes from `url` (its `-progress` clock at the end).
    func decodedSeconds(_ url: String) async throws -> Double {
        let output = try await runTool(
            "ffmpeg", ["-nostdin", "-v", "error", "-i", url, "-map", "0:a:0", "-f", "null", "-progress", "pipe:1", "-nostats", "-"])
        let micros = output.split(separator: "\n").compactMap { line -> Int? in
            line.hasPrefix("out_time_us=") ? Int(line.dropFirst("out_time_us=".count)) : nil
        }.last
        return Double(try #require(micros)) / 1_000_000
    }

    @Test("HLS and DASH open in real clients over signed URLs, decode to the source's length, and hit their bit rates")
    func adaptiveStreams() async throws {
        let seconds = 20.0
        let source = try AudioFixtures.make(seconds: seconds, format: "flac")
        try await withServer { server in
            let client = Client(server: server)
            let (token, _) = try await client.register()
            let (_, album) = try await client.artistAndAlbum(token)
            let track = try await client.readyTrack(source, album: album, token: token)
            let id = try #require(track["id"] as? String)
            let renditions = try #require(track["renditions"] as? [[String: Any]])
            #expect(renditions.compactMap { $0["bitrateKbps"] as? Int } == [96, 160, 256])
            let loudness = try #require(track["loudness"] as? [String: Double])
            let integrated = try #require(loudness["integratedLufs"])
            let peak = try #require(loudness["truePeakDbtp"])
            let gain = try #require(loudness["trackGainDb"])

            let stream = try await HTTP.send("GET", server.api + "/tracks/\(id)/stream", token: token)
            let hls = try #require(stream.string("hls"))
            let dash = try #require(stream.string("dash"))
            #expect(stream.string("trackUrl") == hls)

            // Loudness, measured here by ffmpeg's EBU R128 meter: the source as uploaded, and what a listener
            // decodes from the renditions. The server's figures must be the source's, the renditions must sound
            // as loud, and the gain must take the decoded audio to -14 LUFS unless its true peak would pass -1 dBTP.
            let measuredSource = try await measuredLoudness(ofData: source)
            #expect(abs(measuredSource.integrated - integrated) <= 0.15, "source measures \(measuredSource), server says \(integrated) LUFS")
            #expect(abs(measuredSource.truePeak - peak) <= 0.15, "source measures \(measuredSource), server says \(peak) dBTP")
            let expectedGain = min(-14 - measuredSource.integrated, -1 - measuredSource.truePeak)
            #expect(abs(gain - expectedGain) <= 0.2, "gain \(gain) dB, expected \(expectedGain) from \(measuredSource)")
            let aacFiles = try #require(stream.json["progressive"] as? [[String: Any]]).filter { $0["format"] as? String == "m4a" }
            #expect(aacFiles.count == 3)
            for file in aacFiles {
                let url = try #require(file["url"] as? String)
                let decoded = try await measuredLoudness(of: url)
                #expect(
                    abs(decoded.integrated - integrated) <= 0.3,
                    "\(file["bitrateKbps"] ?? "?") kbps AAC measures \(decoded), source \(integrated) LUFS")
                #expect(abs(decoded.truePeak - peak) <= 1.0, "\(file["bitrateKbps"] ?? "?") kbps AAC measures \(decoded), source \(peak) dBTP")
            }
            // With the gain applied, what the listener hears meets whichever target binds.
            let adjusted = try await measuredLoudness(of: hls, gainDb: gain)
            if -14 - measuredSource.integrated <= -1 - measuredSource.truePeak {
                #expect(abs(adjusted.integrated + 14) <= 0.3, "HLS with \(gain) dB measures \(adjusted)")
                #expect(adjusted.truePeak <= -1 + 0.5, "HLS with \(gain) dB measures \(adjusted)")
            } else {
                #expect(abs(adjusted.truePeak + 1) <= 0.5, "HLS with \(gain) dB measures \(adjusted)")
                #expect(adjusted.integrated <= -14 + 0.3, "HLS with \(gain) dB measures \(adjusted)")
            }

            // ffmpeg as the HLS and DASH client: the whole track decodes. ffmpeg counts the AAC encoder's
            // padding after the last sample, so the reference is the same encoder's plain M4A, decoded in
            // this run: the adaptive streams may exceed it by one frame at most (the 1024 priming samples,
            // which the init segment's edit list marks and ffmpeg's HLS reader does not trim).
            let frame = 1024.0 / 48000
            let progressiveAAC = try #require(
                (stream.json["progressive"] as? [[String: Any]])?.first { $0["format"] as? String == "m4a" }?["url"] as? String)
            let reference = try await decodedSeconds(progressiveAAC)
            #expect(abs(reference - seconds) <= frame, "M4A decoded \(reference) s")
            let hlsSeconds = try await decodedSeconds(hls)
            #expect(hlsSeconds >= seconds && hlsSeconds - reference <= frame + 0.001, "HLS decoded \(hlsSeconds) s, M4A \(reference) s")
            let dashSeconds = try await decodedSeconds(dash)
            #expect(dashSeconds >= seconds && dashSeconds - reference <= frame + 0.001, "DASH decoded \(dashSeconds) s, M4A \(reference) s")

            // Python's m3u8 and mpegdash read the playlists and manifest; every segment is fetched.
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
                "python/check_streams.py"
            ).path
            let report =
                try JSONSerialization.jsonObject(with: Data(try await runTool("python3", [script, hls, dash, "96,160,256"]).utf8)) as? [String: Any]
            #expect(report?["is_variant"] as? Bool == true)
            let variants = try #require(report?["variants"] as? [[String: Any]])
            #expect(variants.count == 3)
            for variant in variants {
                let nominal = Double(try #require(variant["nominal_kbps"] as? Int))
                let measured = try #require(variant["measured_kbps"] as? Double)
                #expect(abs(measured - nominal) / nominal <= 0.15, "HLS \(nominal) kbps measured \(measured)")
                #expect(variant["playlist_type"] as? String == "vod")
                #expect(variant["endlist"] as? Bool == true)
                #expect(variant["has_map"] as? Bool == true)
                #expect(variant["codecs"] as? String == "mp4a.40.2")
                let average = try #require(variant["average_bandwidth"] as? Int)
                #expect(abs(Double(average) / 1000 - measured) / measured <= 0.05, "AVERAGE-BANDWIDTH \(average), measured \(measured) kbps")
                #expect(try #require(variant["bandwidth"] as? Int) >= average)
                let durations = try #require(variant["segment_durations"] as? [Double])
                #expect(durations.dropLast().allSatisfy { (5.5...6.5).contains($0) }, "\(durations)")
                #expect(abs(durations.reduce(0, +) - seconds) < 0.1)
                try checkMedia(variant, seconds: seconds, frame: frame, "HLS \(nominal) kbps")
            }
            let mpd = try #require(report?["dash"] as? [String: Any])
            #expect(mpd["type"] as? String == "static")
            #expect(abs(try #require(mpd["duration_seconds"] as? Double) - seconds) < 0.1, "\(mpd["duration_seconds"] ?? "none")")
            let representations = try #require(mpd["representations"] as? [[String: Any]])
            #expect(representations.compactMap { $0["bandwidth"] as? Int }.sorted() == [96_000, 160_000, 256_000])
            for representation in representations {
                let nominal = Double(try #require(representation["bandwidth"] as? Int)) / 1000
                let label = "DASH \(nominal) kbps"
                let measured = try #require(representation["measured_kbps"] as? Double)
                #expect(abs(measured - nominal) / nominal <= 0.15, "\(label) measured \(measured)")
                #expect(representation["codecs"] as? String == "mp4a.40.2", "\(label)")
                #expect(representation["mime_type"] as? String == "audio/mp4", "\(label)")
                #expect(representation["audio_sampling_rate"] as? String == "48000", "\(label)")
                #expect(representation["template_segment_seconds"] as? Double == 6, "\(label): \(representation)")
                #expect(representation["segment_count"] as? Int == Int((seconds / 6).rounded(.up)), "\(label)")
                #expect(representation["status_after_last"] as? Int == 404, "\(label): a segment past the MPD's count exists")
                try checkMedia(representation, seconds: seconds, frame: frame, label)
            }
            // Playlists are served with their media types, gzip-compressed when the client accepts it.
            let headers = try await runTool("curl", ["-s", "-D", "-", "-o", "/dev/null", "-H", "Accept-Encoding: gzip", hls]).lowercased()
            #expect(headers.contains("content-type: application/vnd.apple.mpegurl"))
            #expect(headers.contains("content-encoding: gzip"))
            let mpdHeaders = try await runTool("curl", ["-s", "-D", "-", "-o", "/dev/null", dash]).lowercased()
            #expect(mpdHeaders.contains("content-type: application/dash+xml"))
            #expect(!mpdHeaders.contains("content-encoding"))

            // Progressive files honour Range and carry their own media type.
            let progressive = try #require(stream.json["progressive"] as? [[String: Any]])
            #expect(progressive.count == 10)
            let types = ["flac": "audio/flac", "mp3": "audio/mpeg", "ogg": "audio/ogg", "m4a": "audio/mp4"]
            for file in progressive {
                let url = try #require(file["url"] as? String)
                let format = try #require(file["format"] as? String)
                let whole = try await HTTP.send("GET", url)
                #expect(whole.headers["content-type"]?.hasPrefix(try #require(types[format])) == true, "\(format)")
                let part = try await HTTP.send("GET", url, headers: ["Range": "bytes=100-199"])
                #expect(part.status == 206)
                #expect(part.body == whole.body.subdata(in: 100..<200))
                if let kbps = file["bitrateKbps"] as? Int {
                    let measured = Double(whole.body.count * 8) / seconds / 1000
                    #expect(abs(measured - Double(kbps)) / Double(kbps) <= 0.15, "\(format) \(kbps) kbps measured \(measured)")
                }
            }
        }
    }

    /// The segments' own timing, read from their boxes: a 48 kHz media timescale, the first fragment at zero,
    /// no gaps, segments of about 6 s adding up to the source's length plus at most the encoder's priming frame.
    func checkMedia(_ facts: [String: Any], seconds: Double, frame: Double, _ label: String) throws {
        #expect(facts["timescale"] as? Int == 48000, "\(label): timescale \(facts["timescale"] ?? "none")")
        // The first fragment starts at zero: no gap, and no negative time wrapped around.
        #expect(facts["first_tfdt"] as? Int == 0, "\(label): tfdt \(facts["first_tfdt"] ?? "none")")
        #expect(facts["tfdt_continuous"] as? Bool == true, "\(label)")
        #expect(facts["init_has_edit_list"] as? Bool == true, "\(label)")  // priming is signalled, not played
        let media = try #require(facts["media_durations"] as? [Double], "\(label)")
        #expect(media.count == Int((seconds / 6).rounded(.up)), "\(label): \(media)")
        #expect(media.dropLast().allSatisfy { (5.5...6.5).contains($0) }, "\(label): \(media)")
        let total = media.reduce(0, +)
        #expect(total >= seconds && total - seconds <= frame + 0.001, "\(label): segments hold \(total) s")
    }

    @Test("the same recording from another artist fails as duplicate_audio; the same artist's re-upload is linked")
    func duplicates() async throws {
        let recording = try AudioFixtures.make(seconds: 15, format: "flac")
        try await withServer { server in
            let client = Client(server: server)
            let (alice, _) = try await client.register()
            let (_, aliceAlbum) = try await client.artistAndAlbum(alice)
            let original = try await client.readyTrack(recording, album: aliceAlbum, token: alice)
            let originalId = try #require(original["id"] as? String)

            let (mallory, _) = try await client.register()
            let (_, malloryAlbum) = try await client.artistAndAlbum(mallory)
            // Another artist's copy, even re-encoded to MP3, is refused.
            let copied = try await client.readyTrack(try await reencode(recording, to: "mp3"), album: malloryAlbum, token: mallory)
            #expect(copied["status"] as? String == "failed")
            let failure = copied["failureReason"] as? [String: Any]
            #expect(failure?["code"] as? String == "duplicate_audio")
            #expect((failure?["message"] as? String)?.contains(originalId.lowercased()) == true)

            let again = try await client.readyTrack(recording, album: aliceAlbum, token: alice, title: "Remaster")
            #expect(again["status"] as? String == "ready")
            #expect((again["linkedTrackId"] as? String)?.lowercased() == originalId.lowercased())

            // A different recording of the same length (same key, other noise) is not a duplicate.
            let other = try await client.readyTrack(try AudioFixtures.make(seconds: 15, format: "flac"), album: malloryAlbum, token: mallory)
            #expect(other["status"] as? String == "ready")
        }
    }

    @Test("a worker killed with SIGKILL mid-transcode: another takes the job after the lease; ready exactly once, nothing left over")
    func killedWorker() async throws {
        let source = try AudioFixtures.make(seconds: 240, format: "flac")
        let directory = try temporaryDirectory("encore-kill")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        try await withServer({
            $0.dataDirectory = data
            $0.workers = 0  // the API only: jobs go to separate worker processes
        }) { server in
            let client = Client(server: server)
            let (token, _) = try await client.register()
            let (_, album) = try await client.artistAndAlbum(token)
            let created = try await client.createTrack(source, album: album, token: token)
            let id = try #require(created.string("id"))
            let database = data + "/encore.sqlite"
            func jobState() async throws -> String {
                try await sqlite(database, "SELECT state || ' ' || attempts FROM job ORDER BY id DESC LIMIT 1")
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }

            let first = try startWorker(data: data, lease: 2)
            defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
            // Wait until it is transcoding: the job is leased and ffmpeg has written segments.
            #expect(
                try await eventually(within: .seconds(60)) {
                    try await jobState() == "running 1" && (try files(under: data + "/tmp").contains { $0.hasSuffix(".m4s") })
                })
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            #expect(try await jobState() == "running 1")  // nobody completed it
            // What the dead worker left: the upload, and its render folder (checked for removal below).
            #expect(try trackFiles(server).contains { $0.hasPrefix(id.lowercased() + "/source-") })
            #expect(try !leftoverFiles(server).isEmpty)

            let second = try startWorker(data: data, lease: 2)
            defer {
                kill(second.processIdentifier, SIGTERM)
                second.waitUntilExit()
            }
            let track = try await client.settled(id, token: token, within: .seconds(300))
            #expect(track["status"] as? String == "ready")
            #expect(try await jobState() == "done 2")
            #expect(try mediaFolders(server, id).count == 1)
            #expect(try trackFiles(server).filter { $0.contains("/source-") }.isEmpty)
            #expect(
                try await sqlite(database, "SELECT COUNT(*) FROM fingerprint").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
            // The dead worker's working folder is gone too, once its orphaned ffmpeg has given up.
            #expect(try await eventually(within: .seconds(60)) { try leftoverFiles(server).isEmpty })
            let hls = try #require(try await HTTP.send("GET", server.api + "/tracks/\(id)/stream", token: token).string("hls"))
            #expect(try await HTTP.send("GET", hls).status == 200)
        }
    }

    @Test("two worker processes on one data directory: every job is done exactly once, and both take part")
    func twoWorkerProcesses() async throws {
        let count = 8
        let directory = try temporaryDirectory("encore-race")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        try await withServer({
            $0.dataDirectory = data
            $0.workers = 0  // the API only: the two worker processes do every job
        }) { server in
            let client = Client(server: server)
            let (token, _) = try await client.register()
            let (_, album) = try await client.artistAndAlbum(token)
            let database = data + "/encore.sqlite"
            // The jobs are held back until both workers are up and polling, then released at once: the two
            // race for each of them.
            var ids: [String] = []
            for index in 0..<count {
                let created = try await client.createTrack(
                    try AudioFixtures.make(seconds: 3, format: "wav"), album: album, token: token, title: "Race \(index)")
                ids.append(try #require(created.string("id")).lowercased())
            }
            _ = try await sqlite(database, "UPDATE job SET runAt = runAt + 1000000000")
            let logs = [directory + "/worker-a.log", directory + "/worker-b.log"]
            let workers = try logs.map { try startWorker(data: data, log: $0) }
            defer { for worker in workers where worker.isRunning { kill(worker.processIdentifier, SIGKILL) } }
            for log in logs {
                let up = try await eventually(within: .seconds(30)) {
                    (try? String(contentsOfFile: log, encoding: .utf8))?.contains("encore worker ") == true
                }
                try #require(up, "\(log): the worker did not start")
            }
            _ = try await sqlite(database, "UPDATE job SET runAt = 0")

            for id in ids {
                #expect(try await client.settled(id, token: token, within: .seconds(300))["status"] as? String == "ready")
            }
            for worker in workers { try await stopWorker(worker) }

            // Every job leased once and done; no worker lost a lease or failed one.
            let jobs = try await sqlite(database, "SELECT state || ' ' || attempts FROM job ORDER BY id")
            #expect(jobs.split(separator: "\n") == Array(repeating: "done 1", count: count), "\(jobs)")
            // Each track was rendered and committed by exactly one of the two, and each did some of them.
            var readyLines: [String: [String]] = [:]
            for log in logs {
                let text = try String(contentsOfFile: log, encoding: .utf8)
                #expect(!text.contains("lost its lease") && !text.contains("failed"), "\(log): \(text)")
                readyLines[log] = ids.flatMap { id in text.components(separatedBy: "track \(id) ready").dropFirst().map { _ in id } }
            }
            let rendered = readyLines.values.flatMap { $0 }
            #expect(rendered.sorted() == ids.sorted(), "rendered \(rendered), expected each of \(ids) once")
            for log in logs { #expect(readyLines[log]?.isEmpty == false, "\(log) did no job: not a race") }
            #expect(
                try await sqlite(database, "SELECT COUNT(*) FROM fingerprint").trimmingCharacters(in: .whitespacesAndNewlines)
                    == "\(count)")
            for id in ids { #expect(try mediaFolders(server, id).count == 1, "\(id)") }
            #expect(try trackFiles(server).filter { $0.contains("/source-") }.isEmpty)
        }
    }

    func reencode(_ audio: Data, to format: String) async throws -> Data {
        let directory = try temporaryDirectory("encore-reencode")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try audio.write(to: URL(fileURLWithPath: directory + "/in"))
        _ = try await runTool("ffmpeg", ["-nostdin", "-v", "error", "-i", directory + "/in", "-b:a", "192k", directory + "/out.\(format)"])
        return try Data(contentsOf: URL(fileURLWithPath: directory + "/out.\(format)"))
    }

}

/// Starts `encore worker` on `data` with one job at a time; its output goes to `log` when given.
func startWorker(data: String, lease: Int? = nil, log: String? = nil) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try encoreExecutable())
    process.arguments = ["worker", "--data-dir", data, "--concurrency", "1"]
    var environment = ProcessInfo.processInfo.environment
    environment["ENCORE_LOG_LEVEL"] = log == nil ? "error" : "info"
    if let lease { environment["ENCORE_JOB_LEASE"] = "\(lease)" }
    process.environment = environment
    if let log {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
    } else {
        process.standardOutput = FileHandle.nullDevice
    }
    try process.run()
    return process
}

/// Stops a worker the way an operator would (SIGTERM) and waits for it, killing it after 30 s.
func stopWorker(_ process: Process) async throws {
    guard process.isRunning else { return }
    kill(process.processIdentifier, SIGTERM)
    if try await !eventually(within: .seconds(30), { !process.isRunning }) {
        kill(process.processIdentifier, SIGKILL)
        Issue.record("worker \(process.processIdentifier) ignored SIGTERM for 30 s")
    }
}

/// Runs `body` while an `encore worker` process serves `data`, and stops it afterwards.
func withWorker<Result>(data: String, _ body: () async throws -> Result) async throws -> Result {
    let worker = try startWorker(data: data)
    do {
        let result = try await body()
        try await stopWorker(worker)
        return result
    } catch {
        try await stopWorker(worker)
        throw error
    }
}

/// Runs one SQL statement with the sqlite3 shell, waiting up to 10 s for locks that worker processes hold
/// (without a busy timeout the shell fails at once with SQLITE_BUSY).
func sqlite(_ database: String, _ sql: String) async throws -> String {
    try await runTool("sqlite3", ["-cmd", ".timeout 10000", database, sql])
}

/// EBU R128 integrated loudness (LUFS) and true peak (dBTP) of the audio ffmpeg decodes from `url`, by ffmpeg's
/// `ebur128` meter, optionally after a gain of `gainDb`.
func measuredLoudness(of url: String, gainDb: Double? = nil) async throws -> (integrated: Double, truePeak: Double) {
    let filter = (gainDb.map { "volume=\($0)dB," } ?? "") + "ebur128=peak=true"
    let log = try await runToolErrors(
        "ffmpeg", ["-nostdin", "-hide_banner", "-nostats", "-v", "info", "-i", url, "-map", "0:a:0", "-af", filter, "-f", "null", "-"])
    let summary = try #require(log.range(of: "Summary:", options: .backwards), "no ebur128 summary in: \(log.suffix(500))")
    func value(_ label: String) throws -> Double {
        let line = try #require(
            log[summary.upperBound...].split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) },
            "no \(label) in the ebur128 summary")
        return try #require(line.split(separator: " ").dropFirst().first.flatMap { Double($0) }, "cannot read \(line)")
    }
    return (try value("I:"), try value("Peak:"))
}

/// ``measuredLoudness(of:gainDb:)`` of audio in memory.
func measuredLoudness(ofData audio: Data) async throws -> (integrated: Double, truePeak: Double) {
    let directory = try temporaryDirectory("encore-loudness")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try audio.write(to: URL(fileURLWithPath: directory + "/audio"))
    return try await measuredLoudness(of: directory + "/audio")
}

/// Runs a command-line tool and returns what it wrote to standard error; fails the test on a non-zero exit.
func runToolErrors(_ tool: String, _ arguments: [String]) async throws -> String {
    let directory = try temporaryDirectory("encore-tool")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let log = directory + "/stderr"
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
        DispatchQueue.global().async {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [tool] + arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = handle
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
                return
            }
            process.waitUntilExit()
            continuation.resume(returning: process.terminationStatus)
        }
    }
    try handle.close()
    let text = try String(contentsOfFile: log, encoding: .utf8)
    try #require(status == 0, "\(tool) exited with \(status): \(text.suffix(500))")
    return text
}

/// Polls `condition` every 100 ms until it holds or `limit` passes.
func eventually(within limit: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}
