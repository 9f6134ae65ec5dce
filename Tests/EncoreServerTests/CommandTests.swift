import EncoreApp
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The executable's commands as an operator runs them: which need the media tools, and the settings table.
@Suite("Commands and their dependencies", .timeLimit(.minutes(3)))
struct CommandTests {
    /// What a finished command printed and how it ended.
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `encore` with `arguments` and extra environment, feeding `input` on standard input, and waits
    /// (off the cooperative pool) for it to exit within `limit`.
    static func run(
        _ arguments: [String], environment: [String: String], input: String = "", within limit: Duration = .seconds(60)
    ) async throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try encoreExecutable())
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let (stdin, stdout, stderr) = (Pipe(), Pipe(), Pipe())
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let exited = try await eventually(within: limit) { !process.isRunning }
        if !exited { kill(process.processIdentifier, SIGKILL) }
        try #require(exited, "encore \(arguments.joined(separator: " ")) did not exit within \(limit)")
        return Outcome(
            status: process.terminationStatus,
            stdout: String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            stderr: String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    /// No media tool can be found: what a machine without ffmpeg and Chromaprint looks like.
    static let withoutTools = [
        "ENCORE_FFMPEG": "/nonexistent/ffmpeg", "ENCORE_FFPROBE": "/nonexistent/ffprobe", "ENCORE_FPCALC": "/nonexistent/fpcalc",
    ]

    @Test("commands that never transcode run without ffmpeg, ffprobe and fpcalc")
    func withoutMediaTools() async throws {
        let directory = try temporaryDirectory("encore-commands")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var environment = Self.withoutTools
        environment["ENCORE_DATA_DIR"] = directory + "/data"
        environment["ENCORE_BCRYPT_COST"] = "4"

        let admin = try await Self.run(
            ["admin", "create", "--email", "root@example.com", "--password-stdin"], environment: environment, input: "a long password\n")
        #expect(admin.status == 0, "\(admin.stderr)")
        #expect(admin.stdout.contains("created admin root@example.com"))

        let catalog = directory + "/catalog.jsonl"
        try Data(#"{"artist":"Björk","album":"Debut","title":"Human Behaviour","trackNumber":1}"#.utf8).write(to: URL(fileURLWithPath: catalog))
        let imported = try await Self.run(["catalog", "import", catalog], environment: environment)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("imported 1 tracks"))

        let found = try await Self.run(["search", "query", "bjork human"], environment: environment)
        #expect(found.status == 0, "\(found.stderr)")
        #expect(found.stdout.hasPrefix("track\t"))
    }

    @Test("a command that transcodes refuses to start without a media tool, and names it", arguments: ["ffmpeg", "ffprobe", "fpcalc"])
    func missingTool(tool: String) async throws {
        let directory = try temporaryDirectory("encore-commands")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let variable = "ENCORE_\(tool.uppercased())"
        let environment = ["ENCORE_DATA_DIR": directory + "/data", variable: "/nonexistent/\(tool)"]
        for arguments in [["worker"], ["serve", "--port", "0", "--workers", "1"]] {
            let outcome = try await Self.run(arguments, environment: environment)
            #expect(outcome.status != 0, "\(arguments)")
            #expect(outcome.stderr.contains("/nonexistent/\(tool)") && outcome.stderr.contains(variable), "\(arguments): \(outcome.stderr)")
            #expect(!outcome.stdout.contains("listening"), "\(arguments)")
        }
    }

    @Test("the README's settings table is the one `encore settings` prints")
    func settingsTable() async throws {
        let printed = try await Self.run(["settings"], environment: [:])
        #expect(printed.status == 0)
        #expect(printed.stdout.trimmingCharacters(in: .newlines) == EncoreConfiguration.settingsTable)
        let readme = try String(contentsOfFile: #filePath.components(separatedBy: "/Tests/")[0] + "/README.md", encoding: .utf8)
        let start = try #require(readme.range(of: "<!-- settings:start -->\n"), "README has no settings table markers")
        let end = try #require(readme.range(of: "\n<!-- settings:end -->"))
        #expect(String(readme[start.upperBound..<end.lowerBound]) == EncoreConfiguration.settingsTable, "run `encore settings` and paste it")
        // Every setting a flag can set says so in its --help.
        let help = try await Self.run(["serve", "--help"], environment: [:])
        for setting in EncoreConfiguration.settings
        where setting.flags.contains(where: { ["--host", "--port", "--public-url", "--data-dir"].contains($0) }) {
            #expect(help.stdout.contains(setting.environmentVariable), "\(setting.environmentVariable)")
        }
    }

    @Test("s3:// storage: bucket, root, endpoint and region are read; a location Encore cannot use is refused with the reason")
    func s3Locations() async throws {
        let full = try S3Location(
            parsing: "s3://music/encore/prod?endpoint=http://127.0.0.1:8333&region=eu-west-1&public_endpoint=https://s3.example.com")
        #expect(
            full
                == (try S3Location(
                    parsing: "s3://music/encore/prod/?region=eu-west-1&endpoint=http://127.0.0.1:8333&public_endpoint=https://s3.example.com")))
        #expect(full.bucket == "music" && full.root == "encore/prod" && full.endpoint == "http://127.0.0.1:8333")
        #expect(full.region == "eu-west-1" && full.publicEndpoint == "https://s3.example.com")
        let plain = try S3Location(parsing: "s3://music?endpoint=https://s3.eu-west-1.amazonaws.com")
        #expect(plain.root == "" && plain.region == "us-east-1" && plain.publicEndpoint == nil)
        for bad in [
            "s3://music", "s3://?endpoint=http://h", "s3://music?endpoint=ftp://h", "s3://music?endpoint=http://h&colour=blue", "s3://m?endpoint=",
        ] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try S3Location(parsing: bad) }
        }
        var configuration = EncoreConfiguration()
        #expect(throws: ConfigurationError.self) { try configuration.set("ENCORE_STORAGE", to: "s3://music") }
        try configuration.set("ENCORE_STORAGE", to: "s3://music?endpoint=http://127.0.0.1:1")
        #expect(configuration.resolvedStorageURL == "s3://music?endpoint=http://127.0.0.1:1")
        configuration.dataDirectory = NSTemporaryDirectory() + "encore-s3-config-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: configuration.dataDirectory) }
        // Credentials are required up front, not discovered at the first upload.
        let missing = await #expect(throws: ConfigurationError.self) { try await EncoreSystem.open(configuration) }
        #expect(missing?.description.contains("AWS_ACCESS_KEY_ID") == true)
    }

    @Test("the edge's nginx configuration carries the values given, and refuses values that would break out of a directive")
    func edgeConfiguration() throws {
        var edge = EdgeConfiguration()
        (edge.listen, edge.origin, edge.cacheDirectory, edge.workers, edge.user) = (
            "127.0.0.1:9999", "http://10.0.0.5:8080/", "/srv/edge", "2", "nobody nogroup"
        )
        let text = try edge.render()
        #expect(!text.contains("{{"))
        #expect(text.contains("listen 127.0.0.1:9999;") && text.contains("proxy_pass http://10.0.0.5:8080;"))
        #expect(text.contains("proxy_cache_path /srv/edge/media") && text.contains("worker_processes 2;") && text.contains("user nobody nogroup;"))
        #expect(text.contains("auth_request /_edge/authorize;"))
        edge.cacheDirectory = "/srv/edge; include /etc/passwd"
        #expect(throws: ConfigurationError.self) { try edge.render() }
        edge.cacheDirectory = "/srv/edge"
        edge.origin = "10.0.0.5:8080"
        #expect(throws: ConfigurationError.self) { try edge.render() }
    }

    @Test("a setting and its flag are parsed by the same rule", arguments: ["ENCORE_PORT", "ENCORE_WORKERS"])
    func flagsAndVariablesAgree(variable: String) async throws {
        let flag = try #require(EncoreConfiguration.settings.first { $0.environmentVariable == variable }?.flags.first)
        let viaFlag = try await Self.run(["serve", flag, "eighty"], environment: ["ENCORE_DATA_DIR": "/nonexistent/never"])
        let viaVariable = try await Self.run(["serve"], environment: [variable: "eighty", "ENCORE_DATA_DIR": "/nonexistent/never"])
        for outcome in [viaFlag, viaVariable] {
            #expect(outcome.status != 0)
            #expect(outcome.stderr.contains("\(variable) must be a whole number"), "\(outcome.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent/never"))
    }
}
