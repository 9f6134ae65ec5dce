import Foundation
import Logging

/// Everything `encore serve` can be told. Defaults run the whole platform in one process on embedded
/// storage (SQLite + a local directory) with no configuration at all.
public struct EncoreConfiguration: Sendable {
    /// Interface to listen on.
    public var host: String = "127.0.0.1"
    /// Port to listen on; 0 picks a free one (tests use that).
    public var port: Int = 8080
    /// Holds the database, the blobs and the generated secret.
    public var dataDirectory: String = "./data"
    /// Base of the URLs handed to clients (`https://media.example.com`); defaults to `http://host:port`.
    public var publicBaseURL: String?
    /// Key material for tokens and signed URLs; generated into the data directory when nil.
    public var secret: String?
    /// bcrypt work factor (4…31). Each step doubles the cost of a login.
    public var bcryptCost: Int = 12
    /// Lifetime of an access token.
    public var accessTokenLifetime: Duration = .seconds(24 * 3600)
    public var uploadURLLifetime: Duration = .seconds(15 * 60)
    public var streamURLLifetime: Duration = .seconds(3600)
    /// Largest audio upload, in bytes.
    public var maxUploadBytes: Int = 2 << 30
    /// Longest audio accepted.
    public var maxAudioDuration: Duration = .seconds(4 * 3600)
    /// Largest JSON request body, in bytes.
    public var maxJSONBodyBytes: Int = 1 << 20
    /// Pipeline jobs run at once inside `encore serve`; 0 leaves them to `encore worker` processes.
    public var workers: Int = ProcessInfo.processInfo.activeProcessorCount
    /// A job whose worker stops heartbeating is retried after this long.
    public var jobLease: Duration = .seconds(60)
    public var jobHeartbeat: Duration = .seconds(10)
    public var ffprobePath: String = "ffprobe"
    public var fpcalcPath: String = "fpcalc"
    public var ffmpegPath: String = "ffmpeg"
    public var logLevel: Logger.Level = .info
    /// How long a user, artist, album or track read by id may be served from memory when the change was
    /// made by another process (this process's own writes are seen at once). Zero turns the cache off.
    public var readCacheMaxAge: Duration = .seconds(1)
    /// Memory for small media objects (segments, playlists) kept by the media origin.
    public var mediaCacheBytes: Int = 64 << 20
    /// Connections served at once; further ones wait in the listen backlog until one closes, so a flood
    /// of clients cannot exhaust file descriptors or memory.
    public var maxConnections: Int = 10_000
    /// A keep-alive connection with no request for this long is closed, freeing its slot.
    public var idleTimeout: Duration = .seconds(60)

    public init() {}

    /// The defaults overridden by `ENCORE_*` environment variables; unknown or malformed values are errors.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> EncoreConfiguration {
        var configuration = EncoreConfiguration()
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func integer(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let raw = value(name) else { return nil }
            guard let number = Int(raw), range.contains(number) else {
                throw ConfigurationError("\(name) must be a whole number in \(range.lowerBound)…\(range.upperBound), not \(raw)")
            }
            return number
        }
        if let host = value("ENCORE_HOST") { configuration.host = host }
        if let port = try integer("ENCORE_PORT", 0...65535) { configuration.port = port }
        if let directory = value("ENCORE_DATA_DIR") { configuration.dataDirectory = directory }
        configuration.publicBaseURL = value("ENCORE_PUBLIC_URL")
        configuration.secret = value("ENCORE_SECRET")
        if let cost = try integer("ENCORE_BCRYPT_COST", 4...31) { configuration.bcryptCost = cost }
        if let seconds = try integer("ENCORE_TOKEN_TTL", 60...31_536_000) { configuration.accessTokenLifetime = .seconds(seconds) }
        if let seconds = try integer("ENCORE_UPLOAD_URL_TTL", 10...604_800) { configuration.uploadURLLifetime = .seconds(seconds) }
        if let seconds = try integer("ENCORE_STREAM_URL_TTL", 10...604_800) { configuration.streamURLLifetime = .seconds(seconds) }
        if let bytes = try integer("ENCORE_MAX_UPLOAD_BYTES", 1...(1 << 40)) { configuration.maxUploadBytes = bytes }
        if let seconds = try integer("ENCORE_MAX_DURATION", 1...86_400) { configuration.maxAudioDuration = .seconds(seconds) }
        if let workers = try integer("ENCORE_WORKERS", 0...256) { configuration.workers = workers }
        if let seconds = try integer("ENCORE_JOB_LEASE", 1...86_400) {
            configuration.jobLease = .seconds(seconds)
            configuration.jobHeartbeat = min(configuration.jobHeartbeat, .milliseconds(seconds * 1000 / 4))
        }
        if let milliseconds = try integer("ENCORE_READ_CACHE_MS", 0...60_000) { configuration.readCacheMaxAge = .milliseconds(milliseconds) }
        if let megabytes = try integer("ENCORE_MEDIA_CACHE_MB", 0...65_536) { configuration.mediaCacheBytes = megabytes << 20 }
        if let count = try integer("ENCORE_MAX_CONNECTIONS", 1...1_000_000) { configuration.maxConnections = count }
        if let seconds = try integer("ENCORE_IDLE_TIMEOUT", 1...3600) { configuration.idleTimeout = .seconds(seconds) }
        if let path = value("ENCORE_FFPROBE") { configuration.ffprobePath = path }
        if let path = value("ENCORE_FPCALC") { configuration.fpcalcPath = path }
        if let path = value("ENCORE_FFMPEG") { configuration.ffmpegPath = path }
        if let level = value("ENCORE_LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw ConfigurationError("ENCORE_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical")
            }
            configuration.logLevel = parsed
        }
        return configuration
    }
}

/// A configuration value that cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
