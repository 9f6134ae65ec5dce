import EncoreBlobs
import EncoreCore
import EncoreMedia
import EncorePostgres
import EncoreS3
import EncoreSQLite
import EncoreServer
import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// The composition root: the one place that reads the configuration and builds the backends it names,
/// then the use-case services over them. Every command of the executable starts here.
///
/// Media tools (ffprobe, ffmpeg, fpcalc) are looked for only by ``jobRunner(logger:)``: commands that
/// never transcode run on a machine without them.
public struct EncoreSystem: Sendable {
    public let configuration: EncoreConfiguration
    /// The data store as the services use it: the database behind the read cache.
    public let store: any DataStore
    /// The same database without the cache: its search engine, bulk import and job queue.
    public let database: any CatalogDatabase
    public let blobs: any BlobStore
    /// The same store as the media origin serves it.
    public let mediaFiles: any MediaFileStore
    public let services: EncoreServices
    public let keys: SigningKeys
    public let publicBaseURL: PublicBaseURL
    /// This process's metrics, scraped at `/metrics`: one registry per system, so that servers started
    /// side by side (as tests do) count their own.
    public let metricsRegistry: PrometheusCollectorRegistry
    var metrics: PrometheusMetricsFactory { PrometheusMetricsFactory(registry: metricsRegistry) }

    /// Creates the data directory, database, blob directory and secret on first use.
    public static func open(_ configuration: EncoreConfiguration) async throws -> EncoreSystem {
        let data = configuration.dataDirectory
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let keys = try SigningKeys.load(configured: configuration.secret, dataDirectory: data)
        let registry = PrometheusCollectorRegistry()
        var metrics = PrometheusMetricsFactory(registry: registry)
        // Renders take seconds to minutes, not the milliseconds requests do.
        metrics.durationHistogramBuckets["encore_transcode_seconds"] = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600].map { .seconds($0) }
        let publicBaseURL = PublicBaseURL(configured: configuration.publicBaseURL)
        // The blob store first: a configuration it refuses must not leave a database open behind it (an SQLite
        // file left open, then deleted, can pass its stale lock state to a new file on the same inode).
        let (blobs, mediaFiles) = try openBlobStore(configuration, keys: keys, publicBaseURL: publicBaseURL)
        let database = try await openDatabase(configuration, metrics: metrics)
        let cache = ReadCache(maxAge: configuration.readCacheMaxAge, metrics: metrics)
        database.keepFresh(cache)
        let store = CachedDataStore(database, cache: cache)
        let environment = ServiceEnvironment(
            store: store, blobs: blobs,
            settings: .init(
                maxUploadBytes: configuration.maxUploadBytes, uploadURLLifetime: configuration.uploadURLLifetime,
                streamURLLifetime: configuration.streamURLLifetime))
        let services = EncoreServices(
            environment: environment, hasher: BcryptHasher(cost: configuration.bcryptCost),
            sealer: AESGCMSecretSealer(sealing: keys.appPasswords, lookup: keys.appPasswordLookup), search: database.search)
        return EncoreSystem(
            configuration: configuration, store: store, database: database, blobs: blobs, mediaFiles: mediaFiles, services: services, keys: keys,
            publicBaseURL: publicBaseURL, metricsRegistry: registry)
    }

    /// The database `ENCORE_DATABASE_URL` names: an SQLite file, or a PostgreSQL primary (with the replicas
    /// of `ENCORE_DATABASE_READ_URL`).
    static func openDatabase(_ configuration: EncoreConfiguration, metrics: PrometheusMetricsFactory) async throws -> any CatalogDatabase {
        let url = configuration.resolvedDatabaseURL
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            return try SQLiteDataStore(path: try path(of: url, scheme: "sqlite"), metrics: metrics)
        }
        do {
            return try await PostgresDataStore.open(
                primary: try PostgresLocation(url: url), replicas: try configuration.databaseReadURLs.map(PostgresLocation.init(url:)),
                migrate: configuration.migrateOnStart, metrics: metrics)
        } catch let error as InvalidPostgresURL {
            throw ConfigurationError("ENCORE_DATABASE_URL or ENCORE_DATABASE_READ_URL is \(error)")
        }
    }

    /// The store `ENCORE_STORAGE` names: a local directory, or an S3 bucket whose playlists are relayed
    /// by the media origin (see ``RelayedBlobStore``).
    private static func openBlobStore(
        _ configuration: EncoreConfiguration, keys: SigningKeys, publicBaseURL: PublicBaseURL
    ) throws -> (any BlobStore, any MediaFileStore) {
        let signer = MediaURLSigner(secret: keys.mediaURLs)
        let configuredMedia = configuration.mediaBaseURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        let mediaBaseURL: @Sendable () -> String = { configuredMedia ?? publicBaseURL.value }
        let location = configuration.resolvedStorageURL
        guard location.hasPrefix("s3://") else {
            let local = try LocalBlobStore(
                root: try path(of: location, scheme: "file"), temporaryDirectory: configuration.dataDirectory + "/tmp", signer: signer,
                baseURL: mediaBaseURL)
            return (local, local)
        }
        let bucket = try S3Location(parsing: location)
        guard let accessKey = configuration.s3AccessKeyId, let secretKey = configuration.s3SecretAccessKey else {
            throw ConfigurationError("s3:// storage needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        let s3 = S3BlobStore(
            .init(
                endpoint: bucket.endpoint, publicEndpoint: bucket.publicEndpoint, region: bucket.region, bucket: bucket.bucket, root: bucket.root,
                credentials: .init(accessKeyId: accessKey, secretAccessKey: secretKey, sessionToken: configuration.s3SessionToken)))
        let relayed = RelayedBlobStore(base: s3, signer: signer, mediaBaseURL: mediaBaseURL)
        return (relayed, relayed)
    }

    private static func path(of location: String, scheme: String) throws -> String {
        guard location.hasPrefix(scheme + ":") else { throw ConfigurationError("\(location) is not a \(scheme): location") }
        return String(location.dropFirst(scheme.count + 1))
    }

    /// The media pipeline over this system's store and blobs, run from the job queue. Throws, naming the
    /// tool, when ffprobe, ffmpeg or fpcalc is not installed.
    public func jobRunner(logger: Logger) throws -> JobRunner {
        var limits = FFprobeAudioProber.Limits()
        limits.maxDuration = configuration.maxAudioDuration
        let work = configuration.dataDirectory + "/tmp"
        let covers = CoverPipeline(
            store: store, blobs: blobs, renderer: try FFmpegCoverRenderer(ffmpeg: configuration.ffmpegPath), workDirectory: work,
            log: { logger.info("\($0)") })
        let pipeline = TrackPipeline(
            store: store, blobs: blobs,
            prober: try FFprobeAudioProber(ffprobe: configuration.ffprobePath, ffmpeg: configuration.ffmpegPath, limits: limits),
            fingerprinter: try FpcalcFingerprinter(fpcalc: configuration.fpcalcPath),
            transcoder: try FFmpegTranscoder(ffmpeg: configuration.ffmpegPath), covers: covers, workDirectory: work,
            log: { logger.info("\($0)") }, metrics: metrics)
        return JobRunner(
            queue: database.jobs, handlers: [TrackProcessingJob.kind: pipeline, CoverProcessingJob.kind: covers],
            settings: .init(
                concurrency: max(configuration.workers, 1), leaseDuration: configuration.jobLease, heartbeatInterval: configuration.jobHeartbeat,
                // On PostgreSQL a queued job wakes idle workers at once (LISTEN): the poll only finds retries coming due.
                idlePoll: database is PostgresDataStore ? .seconds(2) : .milliseconds(250)),
            log: { logger.warning("\($0)") })
    }

    /// What the HTTP server is built from; `backgroundServices` run with it.
    public func serverDependencies(backgroundServices: [any Service] = []) -> ServerDependencies {
        let store = self.store
        let blobs = self.blobs
        return ServerDependencies(
            services: services, accessTokenKey: keys.accessTokens, mediaFiles: mediaFiles,
            readiness: {
                try await store.ping()
                try await blobs.checkWritable()
            }, publicBaseURL: publicBaseURL, backgroundServices: backgroundServices, metrics: serverMetrics())
    }

    /// `/metrics`: everything recorded so far, and the job queue as of the scrape.
    func serverMetrics() -> ServerMetrics {
        let (registry, jobs) = (metricsRegistry, database.jobs)
        return ServerMetrics(factory: metrics) {
            let now = Date()
            // A queue that cannot be read leaves its gauges as they were: the rest of the scrape still counts.
            guard let stats = try? await jobs.stats(now: now) else { return registry.emitToBuffer() }
            for (state, count) in [("due", stats.due), ("scheduled", stats.scheduled), ("running", stats.running), ("dead", stats.dead)] {
                registry.makeGauge(name: "encore_jobs", labels: [("state", state)]).set(Double(count))
            }
            registry.makeGauge(name: "encore_job_oldest_due_seconds").set(stats.oldestDueAt.map { max(0, now.timeIntervalSince($0)) } ?? 0)
            return registry.emitToBuffer()
        }
    }
}

extension LocalBlobStore: MediaFileStore {
    public func localPath(of key: BlobKey) -> String? { path(of: key) }
}

extension RelayedBlobStore: MediaFileStore {
    public func localPath(of key: BlobKey) -> String? { nil }
    public func openForReading(_ key: BlobKey) -> (descriptor: CInt, info: BlobInfo)? { nil }
}

/// Builds the whole Encore server for `configuration`: the API, the media origin and, unless
/// `workers` is 0, the pipeline workers.
///
/// - Parameter onListening: called with the bound port once the server accepts connections.
public func buildApplication(
    _ configuration: EncoreConfiguration, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "encore")
    logger.logLevel = configuration.logLevel
    if configuration.role == .api, configuration.mediaBaseURL == nil {
        // Its media URLs would name itself, and it serves no media.
        throw ConfigurationError("--role api needs ENCORE_MEDIA_URL: where the media tier (or the edge in front of it) is reached")
    }
    let system = try await EncoreSystem.open(configuration)
    // Services stop in reverse order: the HTTP server first, then the workers, and the database last.
    var background: [any Service] = [CloseOnShutdown(database: system.database, logger: logger)]
    if configuration.role.runsJobs, configuration.workers > 0 {
        background.append(JobRunnerService(runner: try system.jobRunner(logger: logger)))
        background.append(
            UploadSweeperService(sweeper: UploadSweeper(blobs: system.blobs, maxAge: configuration.unattachedUploadLifetime), logger: logger))
    }
    var settings = ServerSettings(
        host: configuration.host, port: configuration.port, accessTokenLifetime: configuration.accessTokenLifetime,
        mediaCacheBytes: configuration.mediaCacheBytes, maxConnections: configuration.maxConnections, idleTimeout: configuration.idleTimeout)
    settings.role = configuration.role
    settings.trustedProxies = configuration.trustedProxies
    return try await buildServer(
        system.serverDependencies(backgroundServices: background), settings: settings, logger: logger, onListening: onListening)
}

/// The server's routes for `configuration`, for checking the OpenAPI document against them.
public func registeredRoutes(_ configuration: EncoreConfiguration) async throws -> [(method: String, path: String)] {
    let system = try await EncoreSystem.open(configuration)
    defer { try? system.database.shutdown() }
    return await registeredRoutes(system.serverDependencies())
}

/// Runs pipeline jobs until graceful shutdown; an interrupted job is retried after its lease expires.
public struct JobRunnerService: Service {
    let runner: JobRunner

    public init(runner: JobRunner) { self.runner = runner }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await runner.run() }
    }
}

/// Sweeps never-attached uploads once a minute after start and then hourly, until graceful shutdown.
/// Several workers sweeping at once is harmless: deleting a missing object is not an error.
struct UploadSweeperService: Service {
    let sweeper: UploadSweeper
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var pause: Duration = .seconds(60)
            while !Task.isCancelled {
                guard (try? await Task.sleep(for: pause)) != nil else { return }
                pause = .seconds(3600)
                do {
                    let removed = try await sweeper.sweep()
                    if removed > 0 { logger.info("removed \(removed) uploads never attached") }
                } catch {
                    logger.warning("the upload sweep failed; it runs again in an hour", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}

/// Closes the database once everything else has stopped, so that its files are complete and released.
struct CloseOnShutdown: Service {
    let database: any CatalogDatabase
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        // Work still in flight (a request's last read, a runner's last heartbeat) can hold a connection for a
        // moment, and SQLite refuses to close a pool in use: try again for up to two seconds. A file left open
        // and then deleted (as tests delete their data) can have its inode reused by another database, which
        // then shares this process's stale lock state ("disk I/O error").
        var lastError: (any Error)?
        for _ in 0..<100 {
            do {
                try database.shutdown()
                return
            } catch {
                lastError = error
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        logger.error("the database did not close cleanly", metadata: ["error": "\(String(describing: lastError))"])
    }
}

/// Applies the pending migrations of the database `configuration` names; returns their names. SQLite
/// files are migrated whenever they are opened, so for them this opens and closes the file.
public func migrate(_ configuration: EncoreConfiguration) async throws -> [String] {
    let url = configuration.resolvedDatabaseURL
    if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
        do {
            return try await PostgresDataStore.migrate(try PostgresLocation(url: url))
        } catch let error as InvalidPostgresURL {
            throw ConfigurationError("ENCORE_DATABASE_URL is \(error)")
        }
    }
    var metrics = PrometheusMetricsFactory(registry: PrometheusCollectorRegistry())
    metrics.durationHistogramBuckets = [:]
    let database = try await EncoreSystem.openDatabase(configuration, metrics: metrics)
    try database.shutdown()
    return []
}

/// What the composition root needs of a catalog database, whichever engine it is.
public protocol CatalogDatabase: DataStore, CatalogImportStore {
    /// The search engine over the same database.
    var search: any CatalogSearch { get }
    /// Keeps `cache` in step with changes made by other processes, where the engine can tell (PostgreSQL's
    /// notifications); otherwise the cache's max age bounds how stale it gets.
    func keepFresh(_ cache: ReadCache)
    /// Closes every connection.
    func shutdown() throws
}

extension SQLiteDataStore: CatalogDatabase {
    public func keepFresh(_ cache: ReadCache) {}
    public func shutdown() throws { try close() }
}

extension PostgresDataStore: CatalogDatabase {
    public func keepFresh(_ cache: ReadCache) { _ = invalidating(cache) }
    public func shutdown() throws { close() }
}
