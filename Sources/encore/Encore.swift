import ArgumentParser
import EncoreCore
import EncoreServer
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// `encore`: thin command-line wiring over the EncoreServer library.
@main
struct Encore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encore: a self-hostable music streaming platform.",
        subcommands: [Serve.self, Worker.self, Admin.self],
        defaultSubcommand: Serve.self)
}

/// Options shared by every command that opens the data directory. Flags win over `ENCORE_*` variables,
/// which win over the defaults.
struct StorageOptions: ParsableArguments {
    @Option(help: "Directory for the database, blobs and secret (env ENCORE_DATA_DIR, default ./data).")
    var dataDir: String?

    func configuration() throws -> EncoreConfiguration {
        var configuration = try EncoreConfiguration.fromEnvironment()
        if let dataDir { configuration.dataDirectory = dataDir }
        return configuration
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the API, the media origin and everything else in one process.")

    @OptionGroup var storage: StorageOptions
    @Option(help: "Interface to listen on (env ENCORE_HOST, default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on; 0 picks a free one (env ENCORE_PORT, default 8080).") var port: Int?
    @Option(help: "Public base URL for signed links (env ENCORE_PUBLIC_URL, default http://host:port).") var publicURL: String?
    @Option(help: "Pipeline jobs run in this process at once; 0 for none (env ENCORE_WORKERS, default: cores).") var workers: Int?

    func run() async throws {
        var configuration = try storage.configuration()
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let publicURL { configuration.publicBaseURL = publicURL }
        if let workers { configuration.workers = max(workers, 0) }
        let (host, dataDirectory) = (configuration.host, configuration.dataDirectory)
        let app = try await buildApplication(configuration) { port in
            // Written unbuffered: scripts wait for this line, and stdout is block-buffered when not a terminal.
            FileHandle.standardOutput.write(Data("encore listening on \(host):\(port), data in \(dataDirectory)\n".utf8))
        }
        // Runs until SIGTERM or SIGINT, then shuts down gracefully.
        try await app.runService()
    }
}

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run media pipeline jobs only (scale-out: run the API with --workers 0 and as many of these as needed).")

    @OptionGroup var storage: StorageOptions
    @Option(help: "Jobs run at once (env ENCORE_WORKERS, default: the number of cores).") var concurrency: Int?

    func run() async throws {
        var configuration = try storage.configuration()
        if let concurrency { configuration.workers = max(concurrency, 1) }
        configuration.workers = max(configuration.workers, 1)
        var logger = Logger(label: "encore-worker")
        logger.logLevel = configuration.logLevel
        let services = try EncoreServices.open(configuration, logger: logger)
        FileHandle.standardOutput.write(Data("encore worker \(services.jobRunner.workerName) running\n".utf8))
        let group = ServiceGroup(
            configuration: .init(
                services: [JobRunnerService(runner: services.jobRunner)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
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
        let services = try EncoreServices.open(try storage.configuration())
        let user = try await services.catalog.createAdmin(email: email, password: secret, displayName: displayName)
        print("created admin \(user.email) (\(user.id.uuidString.lowercased()))")
    }
}
