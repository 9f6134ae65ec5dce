import ArgumentParser
import EncoreApp
import EncoreCore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// `encore`: thin command-line wiring over the composition root in `EncoreApp`.
@main
struct Encore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encore: a self-hostable music streaming platform.",
        subcommands: [
            Serve.self, Worker.self, Migrate.self, Admin.self, Catalog.self, SearchCommand.self, EdgeConfig.self, Edge.self, Settings.self,
        ],
        defaultSubcommand: Serve.self)
}

/// Options shared by every command that opens the data directory. Flags win over `ENCORE_*` variables,
/// which win over the defaults.
struct StorageOptions: ParsableArguments {
    @Option(help: ArgumentHelp(setting("ENCORE_DATA_DIR"))) var dataDir: String?

    func configuration() throws -> EncoreConfiguration {
        var configuration = try EncoreConfiguration.fromEnvironment()
        if let dataDir { try configuration.set("ENCORE_DATA_DIR", to: dataDir) }
        return configuration
    }
}

/// The help text of a setting's flag, from the one table of settings.
func setting(_ environmentVariable: String) -> String {
    EncoreConfiguration.settings.first { $0.environmentVariable == environmentVariable }?.help ?? environmentVariable
}

struct Settings: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print every setting as a Markdown table (the README's table).")

    func run() {
        print(EncoreConfiguration.settingsTable)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the API, the media origin and the pipeline in one process, or one of them (--role).")

    @OptionGroup var storage: StorageOptions
    @Option(help: ArgumentHelp(setting("ENCORE_ROLE"))) var role: String?
    @Option(help: ArgumentHelp(setting("ENCORE_HOST"))) var host: String?
    @Option(help: ArgumentHelp(setting("ENCORE_PORT"))) var port: String?
    @Option(help: ArgumentHelp(setting("ENCORE_PUBLIC_URL"))) var publicURL: String?
    @Option(help: ArgumentHelp(setting("ENCORE_WORKERS"))) var workers: String?

    func run() async throws {
        var configuration = try storage.configuration()
        if let role { try configuration.set("ENCORE_ROLE", to: role) }
        if let host { try configuration.set("ENCORE_HOST", to: host) }
        if let port { try configuration.set("ENCORE_PORT", to: port) }
        if let publicURL { try configuration.set("ENCORE_PUBLIC_URL", to: publicURL) }
        if let workers { try configuration.set("ENCORE_WORKERS", to: workers) }
        let (host, dataDirectory, role) = (configuration.host, configuration.dataDirectory, "\(configuration.role)")
        let app = try await buildApplication(configuration) { port in
            // Written unbuffered: scripts wait for this line, and stdout is block-buffered when not a terminal.
            FileHandle.standardOutput.write(Data("encore listening on \(host):\(port), data in \(dataDirectory), role \(role)\n".utf8))
        }
        // Runs until SIGTERM or SIGINT, then shuts down gracefully.
        try await app.runService()
    }
}

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run media pipeline jobs only (scale-out: run the API with --workers 0 and as many of these as needed).")

    @OptionGroup var storage: StorageOptions
    @Option(help: ArgumentHelp(setting("ENCORE_WORKERS"))) var concurrency: String?

    func run() async throws {
        var configuration = try storage.configuration()
        if let concurrency { try configuration.set("ENCORE_WORKERS", to: concurrency) }
        configuration.workers = max(configuration.workers, 1)
        var logger = Logger(label: "encore-worker")
        logger.logLevel = configuration.logLevel
        let runner = try await EncoreSystem.open(configuration).jobRunner(logger: logger)
        FileHandle.standardOutput.write(Data("encore worker \(runner.workerName) running\n".utf8))
        let group = ServiceGroup(
            configuration: .init(
                services: [JobRunnerService(runner: runner)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

struct EdgeConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge-config", abstract: "Print the nginx configuration of a caching edge in front of the media origin.")

    @Option(help: "address:port the edge listens on") var listen = EdgeConfiguration().listen
    @Option(help: "Encore's media origin (or a whole Encore)") var origin = EdgeConfiguration().origin
    @Option(help: "an existing directory for the caches") var cacheDir = EdgeConfiguration().cacheDirectory
    @Option(help: "disk budget of the object cache (nginx units: 500m, 10g)") var cacheSize = EdgeConfiguration().cacheSize
    @Option(help: "nginx worker processes: a number or auto") var workers = EdgeConfiguration().workers
    @Option(help: "user nginx's workers run as (must write the cache directory)") var user = EdgeConfiguration().user

    func run() throws {
        var edge = EdgeConfiguration()
        (edge.listen, edge.origin, edge.cacheDirectory, edge.cacheSize, edge.workers, edge.user) = (
            listen, origin, cacheDir, cacheSize, workers, user
        )
        print(try edge.render(), terminator: "")
    }
}

struct Edge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Operate a caching edge.", subcommands: [Warm.self])

    struct Warm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pre-fetch the most-played tracks' playlists and first segments into the edge (CDN pre-warming).")

        @OptionGroup var storage: StorageOptions
        @Option(help: "the edge's base URL") var edge: String
        @Option(help: "how many of the most-played tracks") var top = 100
        @Option(help: "media segments per variant, after its init segment") var segments = 2

        func run() async throws {
            let system = try await EncoreSystem.open(try storage.configuration())
            let report = try await EdgeWarmer(system: system, edge: edge, segments: segments).warm(top: top) { print($0) }
            for failure in report.failures.prefix(20) { FileHandle.standardError.write(Data("failed: \(failure)\n".utf8)) }
            print(
                "warmed \(report.tracks) tracks: \(report.objects) objects, \(report.bytes) bytes, \(report.alreadyCached) already cached, "
                    + "\(report.failures.count) failures")
            if !report.failures.isEmpty { throw ExitCode(1) }
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the database's pending migrations and print their names (serve applies them at start unless ENCORE_MIGRATE=false).")

    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let applied = try await EncoreApp.migrate(try storage.configuration())
        print(applied.isEmpty ? "the database is up to date" : applied.map { "applied \($0)" }.joined(separator: "\n"))
    }
}

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Administrative tasks.", subcommands: [CreateAdmin.self])
}

struct CreateAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an administrator account.")

    @OptionGroup var storage: StorageOptions
    @Option(help: "The administrator's email.") var email: String
    @Option(help: "The password (8 to 72 bytes). Prefer --password-stdin to keep it out of shell history.") var password: String?
    @Flag(help: "Read the password from standard input.") var passwordStdin = false
    @Option(help: "Display name.") var displayName = "Administrator"

    func run() async throws {
        let secret: String
        if passwordStdin {
            guard let line = readLine(strippingNewline: true) else { throw ValidationError("no password on standard input") }
            secret = line
        } else if let password {
            secret = password
        } else {
            throw ValidationError("give --password or --password-stdin")
        }
        let system = try await EncoreSystem.open(try storage.configuration())
        let user = try await system.services.accounts.createAdmin(email: email, password: secret, displayName: displayName)
        print("created admin \(user.email) (\(user.id.uuidString.lowercased()))")
    }
}

struct Catalog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Bulk catalog operations.", subcommands: [ImportCatalog.self])
}

struct ImportCatalog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import tracks from JSON Lines: {artist, album, title, trackNumber?, durationMs?, genre?, year?, plays?, audio?}.")

    @OptionGroup var storage: StorageOptions
    @Argument(help: "The .jsonl file.") var file: String
    @Option(help: "Email of the account that will own the imported artists (default: a dedicated import account).") var owner: String?

    func run() async throws {
        let system = try await EncoreSystem.open(try storage.configuration())
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
        let ownerId = try await system.services.accounts.importOwner(email: owner)
        let terminal = isatty(STDERR_FILENO) == 1
        let start = ContinuousClock.now
        let total = data.reduce(into: 0) { count, byte in if byte == UInt8(ascii: "\n") { count += 1 } }
        let importer = CatalogImporter(store: system.database, blobs: system.blobs)
        let progress = try await importer.importLines(data, owner: ownerId) { progress in
            guard terminal else { return }
            let elapsed = (ContinuousClock.now - start).timeInterval
            let rate = Double(progress.linesRead) / max(elapsed, 0.001)
            let width = 30
            let done = total > 0 ? min(width, progress.linesRead * width / total) : width
            let bar = String(repeating: "█", count: done) + String(repeating: "·", count: width - done)
            FileHandle.standardError.write(Data("\r\(bar) \(progress.linesRead)/\(total) lines, \(Int(rate)) lines/s ".utf8))
        }
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
        for rejection in progress.rejected.sorted(by: { $0.line < $1.line }).prefix(1000) {
            FileHandle.standardError.write(Data("line \(rejection.line): \(rejection.reason)\n".utf8))
        }
        let elapsed = (ContinuousClock.now - start).timeInterval
        print(
            "imported \(progress.imported) tracks from \(progress.linesRead) lines in \(String(format: "%.1f", elapsed)) s "
                + "(\(Int(Double(progress.imported) / max(elapsed, 0.001))) tracks/s), skipped \(progress.rejected.count) bad lines")
    }
}

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search the catalog from the command line, or maintain its index.",
        subcommands: [Reindex.self, Query.self, Bench.self])

    struct Reindex: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rebuild the search index from the catalog.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let search = try await EncoreSystem.open(try storage.configuration()).services.search.engine
            let start = ContinuousClock.now
            let count = try await search.reindex()
            print("indexed \(count) documents in \(String(format: "%.1f", (ContinuousClock.now - start).timeInterval)) s")
        }
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run one query and print the ranked hits.")
        @OptionGroup var storage: StorageOptions
        @Argument var query: String
        @Option var limit = 5

        func run() async throws {
            let search = try await EncoreSystem.open(try storage.configuration()).services.search.engine
            let results = try await search.search(try SearchRequest(query: query, limit: limit))
            for hit in results.artists + results.albums + results.tracks {
                print("\(hit.kind.rawValue)\t\(String(format: "%.1f", hit.score))\t\(hit.id.uuidString.lowercased())")
            }
        }
    }

    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time queries in-process (one per line of a file) and print p50/p95/p99 latency.", shouldDisplay: false)
        @OptionGroup var storage: StorageOptions
        @Option(help: "File with one query per line.") var queries: String
        @Option(help: "Passes over the file.") var passes = 3

        func run() async throws {
            let search = try await EncoreSystem.open(try storage.configuration()).services.search.engine
            guard let text = try? String(contentsOfFile: queries, encoding: .utf8) else { throw ValidationError("cannot read \(queries)") }
            let lines = text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
            for line in lines.prefix(50) { _ = try await search.search(try SearchRequest(query: line)) }  // warm the caches
            var samples: [Double] = []
            for _ in 0..<passes {
                for line in lines {
                    let start = ContinuousClock.now
                    _ = try await search.search(try SearchRequest(query: line))
                    samples.append((ContinuousClock.now - start).timeInterval * 1000)
                }
            }
            samples.sort()
            func percentile(_ p: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count) * p))] }
            print(
                String(
                    format: "queries %d  p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms", samples.count, percentile(0.5), percentile(0.95),
                    percentile(0.99), samples.last ?? 0))
        }
    }
}
