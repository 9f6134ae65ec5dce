import EncoreBlobs
import EncoreCore
import EncoreMedia
import EncoreSQLite
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The catalog service and its storage, opened from a configuration: what both `encore serve` and the
/// administrative commands work on.
public struct EncoreServices: Sendable {
    public let configuration: EncoreConfiguration
    public let catalog: CatalogService
    public let store: SQLiteCatalogStore
    /// ``store`` behind a read cache: what request handling and the pipeline go through.
    public let catalogStore: CachedCatalogStore
    public let blobs: LocalBlobStore
    /// Runs pipeline jobs from the catalog's queue.
    public let jobRunner: JobRunner
    let keys: SigningKeys
    let publicBaseURL: PublicBaseURL

    /// Creates the data directory, database, blob directory and secret on first use.
    public static func open(_ configuration: EncoreConfiguration, logger: Logger = Logger(label: "encore")) throws -> EncoreServices {
        let data = configuration.dataDirectory
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let keys = try SigningKeys.load(configured: configuration.secret, dataDirectory: data)
        let store = try SQLiteCatalogStore(path: data + "/encore.sqlite")
        let cachedStore = CachedCatalogStore(store, maxAge: configuration.readCacheMaxAge)
        let publicBaseURL = PublicBaseURL(configured: configuration.publicBaseURL)
        let blobs = try LocalBlobStore(
            root: data + "/blobs", temporaryDirectory: data + "/tmp", signer: MediaURLSigner(secret: keys.mediaURLs),
            baseURL: { publicBaseURL.value })
        var limits = FFprobeAudioProber.Limits()
        limits.maxDuration = configuration.maxAudioDuration
        let prober = try FFprobeAudioProber(ffprobe: configuration.ffprobePath, ffmpeg: configuration.ffmpegPath, limits: limits)
        let catalog = CatalogService(
            store: cachedStore, blobs: blobs, prober: prober, hasher: BcryptHasher(cost: configuration.bcryptCost),
            settings: .init(
                maxUploadBytes: configuration.maxUploadBytes, uploadURLLifetime: configuration.uploadURLLifetime,
                streamURLLifetime: configuration.streamURLLifetime))
        let pipeline = TrackPipeline(
            store: cachedStore, blobs: blobs, prober: prober, fingerprinter: try FpcalcFingerprinter(fpcalc: configuration.fpcalcPath),
            transcoder: try FFmpegTranscoder(ffmpeg: configuration.ffmpegPath), workDirectory: data + "/tmp",
            log: { logger.info("\($0)") })
        let runner = JobRunner(
            queue: store, handlers: [TrackProcessingJob.kind: pipeline],
            settings: .init(
                concurrency: max(configuration.workers, 1), leaseDuration: configuration.jobLease, heartbeatInterval: configuration.jobHeartbeat),
            log: { logger.warning("\($0)") })
        return EncoreServices(
            configuration: configuration, catalog: catalog, store: store, catalogStore: cachedStore, blobs: blobs, jobRunner: runner, keys: keys,
            publicBaseURL: publicBaseURL)
    }
}

extension EncoreServices {
    /// Catalog search over the store's index.
    public var search: any CatalogSearch { store }

    /// The store's bulk import path.
    public var importStore: any CatalogImportStore { store }

    /// The account that owns imported artists: the one named by `email`, or a dedicated import account
    /// (which cannot log in: its password is random and never shown).
    public func importOwner(email: String?) async throws -> UUID {
        if let email {
            guard let found = try await store.credentials(email: try Validate.email(email)) else {
                throw ConfigurationError("no account with email \(email)")
            }
            return found.user.id
        }
        let address = "catalog-import@encore.invalid"
        if let found = try await store.credentials(email: address) { return found.user.id }
        let time = Date()
        let user = User(id: UUID(), email: address, displayName: "Catalog import", role: .artist, createdAt: time, updatedAt: time)
        try await store.insertUser(user, passwordHash: "!" + UUID().uuidString)  // not a bcrypt hash: no password matches
        return user.id
    }
}

/// The base of every URL Encore hands out. Unless configured, it is learnt when the server starts
/// listening, since the port may be chosen by the system.
final class PublicBaseURL: Sendable {
    private let state: Mutex<String>
    private let configured: Bool

    init(configured: String?) {
        self.configured = configured != nil
        state = Mutex(configured.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "http://127.0.0.1")
    }

    var value: String { state.withLock { $0 } }

    func listening(host: String, port: Int) {
        guard !configured else { return }
        let reachable = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        state.withLock { $0 = "http://\(reachable.contains(":") ? "[\(reachable)]" : reachable):\(port)" }
    }
}

/// Builds the router: health, OpenAPI, the `/api/v1` routes and the media origin.
func buildRouter(_ services: EncoreServices, tokens: AccessTokens, origin: MediaOrigin) -> Router<EncoreRequestContext> {
    let router = Router(context: EncoreRequestContext.self)
    router.add(middleware: EdgeMiddleware())

    router.get("/health") { _, _ in try APIJSON.response(["status": "ok"]) }
    router.get("/ready") { _, _ in
        do {
            try await services.store.ping()
            guard FileManager.default.isWritableFile(atPath: services.blobs.root) else {
                throw EncoreError(.unavailable, code: "storage_unavailable", message: "The blob directory is not writable.")
            }
        } catch {
            throw EncoreError(.unavailable, code: "not_ready", message: "Storage is not available: \(error)")
        }
        return try APIJSON.response(["status": "ready"])
    }
    router.get("/openapi.json") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
    }

    let api = router.group("/api/v1")
    AuthController(catalog: services.catalog, tokens: tokens).addRoutes(to: api)
    let authenticated = router.group("/api/v1").add(middleware: AccessTokenMiddleware(tokens: tokens, store: services.catalogStore))
    UserController(catalog: services.catalog).addRoutes(to: authenticated)
    ArtistController(catalog: services.catalog).addRoutes(to: authenticated)
    AlbumController(catalog: services.catalog).addRoutes(to: authenticated)
    TrackController(catalog: services.catalog).addRoutes(to: authenticated)
    PlaylistController(catalog: services.catalog).addRoutes(to: authenticated)
    SearchController(search: services.store, store: services.store).addRoutes(to: authenticated)
    origin.addRoutes(to: router)
    return router
}

/// Builds the whole Encore server for `configuration`.
///
/// - Parameter onListening: called with the bound port once the server accepts connections.
public func buildApplication(
    _ configuration: EncoreConfiguration, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "encore")
    logger.logLevel = configuration.logLevel
    let services = try EncoreServices.open(configuration, logger: logger)
    let tokens = await AccessTokens(key: services.keys.accessTokens, lifetime: configuration.accessTokenLifetime)
    let origin = MediaOrigin(blobs: services.blobs, cache: MediaObjectCache(budget: configuration.mediaCacheBytes))
    let router = buildRouter(services, tokens: tokens, origin: origin)
    let host = configuration.host
    let idleTimeout = configuration.idleTimeout
    return Application(
        router: router,
        server: HTTPServerBuilder { responder in EncoreHTTP1Channel(responder: responder, origin: origin, idleTimeout: idleTimeout) },
        configuration: .init(
            address: .hostname(host, port: configuration.port), serverName: "encore", backlog: 1024,
            availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
        services: configuration.workers > 0 ? [JobRunnerService(runner: services.jobRunner)] : [],
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            services.publicBaseURL.listening(host: host, port: port)
            await onListening(port)
        },
        logger: logger)
}

/// The router's routes, for checking the OpenAPI document against them.
public func registeredRoutes(_ configuration: EncoreConfiguration) async throws -> [(method: String, path: String)] {
    let services = try EncoreServices.open(configuration)
    let tokens = await AccessTokens(key: services.keys.accessTokens, lifetime: configuration.accessTokenLifetime)
    let origin = MediaOrigin(blobs: services.blobs, cache: MediaObjectCache(budget: 0))
    return buildRouter(services, tokens: tokens, origin: origin).routes.map { ($0.method.rawValue, $0.path.description) }
}

/// Runs pipeline jobs until graceful shutdown; an interrupted job is retried after its lease expires.
public struct JobRunnerService: Service {
    let runner: JobRunner

    public init(runner: JobRunner) { self.runner = runner }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await runner.run() }
    }
}
