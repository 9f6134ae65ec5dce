import CoreMetrics
import Crypto
import EncoreCore
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// What the HTTP server is built from: use-case services and the few things only HTTP needs. The
/// composition root (`EncoreApp`) makes these from the configuration; this module never picks a backend.
public struct ServerDependencies: Sendable {
    public var services: EncoreServices
    /// Signs and checks access tokens (JWT, HS256).
    public var accessTokenKey: SymmetricKey
    /// The local files behind signed media URLs, when Encore itself is the media origin.
    public var mediaFiles: (any MediaFileStore)?
    /// Throws when a dependency (database, storage) cannot serve requests: `/ready` answers 503.
    public var readiness: @Sendable () async throws -> Void
    /// Learns the bound port when the server is told to pick one.
    public var publicBaseURL: PublicBaseURL
    /// Long-lived work that runs with the server (pipeline workers), stopped gracefully with it.
    public var backgroundServices: [any Service]
    /// Where the server records its own metrics, and how `/metrics` gathers everything (none: no `/metrics`).
    public var metrics: ServerMetrics?

    public init(
        services: EncoreServices, accessTokenKey: SymmetricKey, mediaFiles: (any MediaFileStore)?,
        readiness: @escaping @Sendable () async throws -> Void, publicBaseURL: PublicBaseURL, backgroundServices: [any Service] = [],
        metrics: ServerMetrics? = nil
    ) {
        self.metrics = metrics
        self.services = services
        self.accessTokenKey = accessTokenKey
        self.mediaFiles = mediaFiles
        self.readiness = readiness
        self.publicBaseURL = publicBaseURL
        self.backgroundServices = backgroundServices
    }
}

/// The server's metrics: the factory its request counters and histograms come from, and the Prometheus
/// text `/metrics` answers (gathered when scraped, so that gauges such as queue depth are current).
public struct ServerMetrics: Sendable {
    public var factory: any MetricsFactory
    public var exposition: @Sendable () async throws -> [UInt8]

    public init(factory: any MetricsFactory, exposition: @escaping @Sendable () async throws -> [UInt8]) {
        self.factory = factory
        self.exposition = exposition
    }
}

/// What one Encore process does, so that the same binary and configuration run as any tier (like Loki's
/// or Mimir's `-target`). Every role answers `/health` and `/ready`.
public enum ServerRole: String, Sendable, CaseIterable {
    /// Everything in one process: the default.
    case all
    /// The JSON API, the Subsonic API and the web app; stateless (JWT), so any number run behind a balancer.
    case api
    /// The media origin: signed objects, ranges, the edge's token check.
    case media
    /// Pipeline jobs only; its HTTP server answers health checks.
    case worker

    public var servesAPI: Bool { self == .all || self == .api }
    public var servesMedia: Bool { self == .all || self == .media }
    public var runsJobs: Bool { self == .all || self == .worker }
}

/// How the HTTP server listens and what it allows.
public struct ServerSettings: Sendable {
    public var role: ServerRole = .all
    /// Proxies (the edge, a load balancer) whose `X-Forwarded-For` names the client.
    public var trustedProxies: Set<String> = []
    public var host: String
    public var port: Int
    public var accessTokenLifetime: Duration
    /// Memory for small media objects (segments, playlists) kept by the media origin.
    public var mediaCacheBytes: Int
    /// Connections served at once; further ones wait in the listen backlog.
    public var maxConnections: Int
    /// A keep-alive connection with no request for this long is closed.
    public var idleTimeout: Duration

    public init(
        host: String, port: Int, accessTokenLifetime: Duration, mediaCacheBytes: Int, maxConnections: Int, idleTimeout: Duration
    ) {
        self.host = host
        self.port = port
        self.accessTokenLifetime = accessTokenLifetime
        self.mediaCacheBytes = mediaCacheBytes
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
    }
}

/// Builds the router: health, then the API's routes (OpenAPI, `/api/v1`, Subsonic, the web app) unless
/// `servesAPI` is false, and the media routes when there is an origin.
func buildRouter(
    _ dependencies: ServerDependencies, tokens: AccessTokens, origin: MediaOrigin?, servesAPI: Bool = true, trustedProxies: Set<String> = [],
    accessLog: AccessLog = .disabled
) -> Router<EncoreRequestContext> {
    let services = dependencies.services
    let router = Router(context: EncoreRequestContext.self)
    var edge = EdgeMiddleware(metrics: RequestMetrics(factory: dependencies.metrics?.factory ?? NOOPMetricsHandler.instance))
    edge.trustedProxies = trustedProxies
    edge.accessLog = accessLog
    router.add(middleware: edge)

    router.get("/health") { _, _ in try APIJSON.response(["status": "ok"]) }
    router.get("/ready") { _, _ in
        do {
            try await dependencies.readiness()
        } catch {
            throw EncoreError(.notReady, "Storage is not available: \(error)")
        }
        return try APIJSON.response(["status": "ready"])
    }
    if let metrics = dependencies.metrics {
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: try await metrics.exposition())))
        }
    }
    origin?.addRoutes(to: router)
    guard servesAPI else { return router }
    router.get("/openapi.json") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: try OpenAPIDocument.bytes()))
    }

    let api = router.group("/api/v1")
    AuthController(accounts: services.accounts, tokens: tokens).addRoutes(to: api)
    let authenticated = router.group("/api/v1").add(middleware: AccessTokenMiddleware(tokens: tokens, accounts: services.environment.store.accounts))
    UserController(accounts: services.accounts, plays: services.plays, appPasswords: services.appPasswords).addRoutes(to: authenticated)
    ArtistController(catalog: services.catalog).addRoutes(to: authenticated)
    AlbumController(catalog: services.catalog, tracks: services.tracks).addRoutes(to: authenticated)
    TrackController(tracks: services.tracks, playback: services.playback).addRoutes(to: authenticated)
    PlayController(plays: services.plays).addRoutes(to: authenticated)
    PlaylistController(playlists: services.playlists).addRoutes(to: authenticated)
    SearchController(search: services.search, catalog: services.catalog).addRoutes(to: authenticated)
    SubsonicController(services: services).addRoutes(to: router)
    WebAppAssets.bundled?.addRoutes(to: router, publicBaseURL: dependencies.publicBaseURL)
    return router
}

/// Builds the whole HTTP server over `dependencies`.
///
/// - Parameter onListening: called with the bound port once the server accepts connections.
public func buildServer(
    _ dependencies: ServerDependencies, settings: ServerSettings, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let tokens = await AccessTokens(key: dependencies.accessTokenKey, lifetime: settings.accessTokenLifetime)
    let metrics = dependencies.metrics?.factory ?? NOOPMetricsHandler.instance
    let origin =
        settings.role.servesMedia
        ? dependencies.mediaFiles.map {
            var origin = MediaOrigin(blobs: $0, cache: MediaObjectCache(budget: settings.mediaCacheBytes, metrics: metrics))
            origin.sendfileResponses = Counter(label: "encore_media_sendfile_responses_total", factory: metrics)
            return origin
        } : nil
    let accessLog = AccessLog(level: logger.logLevel)
    let router = buildRouter(
        dependencies, tokens: tokens, origin: origin, servesAPI: settings.role.servesAPI, trustedProxies: settings.trustedProxies,
        accessLog: accessLog)
    let host = settings.host
    let idleTimeout = settings.idleTimeout
    return Application(
        router: router,
        server: HTTPServerBuilder { responder in
            EncoreHTTP1Channel(responder: responder, origin: origin, idleTimeout: idleTimeout, accessLog: accessLog)
        },
        configuration: .init(
            address: .hostname(host, port: settings.port), serverName: "encore", backlog: 1024,
            availableConnectionsDelegate: MaximumAvailableConnections(settings.maxConnections)),
        // The flusher is listed first so that it stops last, after the server's final requests are logged.
        services: [AccessLogFlusher(log: accessLog)] + dependencies.backgroundServices,
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? settings.port
            dependencies.publicBaseURL.listening(host: host, port: port)
            await onListening(port)
        },
        logger: logger)
}

/// The router's routes, for checking the OpenAPI document against them.
public func registeredRoutes(_ dependencies: ServerDependencies) async -> [(method: String, path: String)] {
    let tokens = await AccessTokens(key: dependencies.accessTokenKey, lifetime: .seconds(60))
    let origin = dependencies.mediaFiles.map { MediaOrigin(blobs: $0, cache: MediaObjectCache(budget: 0)) }
    return buildRouter(dependencies, tokens: tokens, origin: origin).routes.map { ($0.method.rawValue, $0.path.description) }
}
