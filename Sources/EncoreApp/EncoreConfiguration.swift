import EncoreServer
import Foundation
import Logging

/// Everything Encore can be told. Defaults run the whole platform in one process on embedded storage
/// (SQLite + a local directory) with no configuration at all.
///
/// Each setting is described once, in ``EncoreConfiguration/settings``: its environment variable, its
/// flag, its default, its meaning and how it is parsed. The environment, the command-line flags and the
/// README's table all come from there.
public struct EncoreConfiguration: Sendable {
    /// What this process does: everything, or one tier.
    public var role: ServerRole = .all
    /// Addresses of proxies whose `X-Forwarded-For` is believed.
    public var trustedProxies: Set<String> = []
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Holds the generated secret and the pipeline's work files, and by default the database and blobs.
    public var dataDirectory: String = "./data"
    /// Where the catalog lives: `sqlite:PATH` or `postgres://…`; nil means `sqlite:{dataDirectory}/encore.sqlite`.
    public var databaseURL: String?
    /// PostgreSQL read replicas (`postgres://…`), which take reads; empty: the primary takes them.
    public var databaseReadURLs: [String] = []
    /// Whether `serve` (and every other command) brings the database's schema up to date when it opens it.
    public var migrateOnStart: Bool = true
    /// Where objects live: `file:PATH` or `s3://bucket?endpoint=…`; nil means `file:{dataDirectory}/blobs`.
    public var storageURL: String?
    public var publicBaseURL: String?
    /// Base of media URLs (`/media/{token}/…`) when they go elsewhere than ``publicBaseURL``: a caching edge.
    public var mediaBaseURL: String?
    /// S3 credentials, from the variables every S3 tool reads.
    public var s3AccessKeyId: String?
    public var s3SecretAccessKey: String?
    public var s3SessionToken: String?
    public var secret: String?
    public var bcryptCost: Int = 12
    public var accessTokenLifetime: Duration = .seconds(24 * 3600)
    public var uploadURLLifetime: Duration = .seconds(15 * 60)
    /// How long an upload may wait to be attached before the sweep removes it.
    public var unattachedUploadLifetime: Duration = .seconds(24 * 3600)
    public var streamURLLifetime: Duration = .seconds(3600)
    public var maxUploadBytes: Int = 2 << 30
    public var maxAudioDuration: Duration = .seconds(4 * 3600)
    public var workers: Int = ProcessInfo.processInfo.activeProcessorCount
    public var jobLease: Duration = .seconds(60)
    public var jobHeartbeat: Duration = .seconds(10)
    public var ffprobePath: String = "ffprobe"
    public var fpcalcPath: String = "fpcalc"
    public var ffmpegPath: String = "ffmpeg"
    public var logLevel: Logger.Level = .info
    public var readCacheMaxAge: Duration = .seconds(1)
    public var mediaCacheBytes: Int = 64 << 20
    public var maxConnections: Int = 10_000
    public var idleTimeout: Duration = .seconds(60)

    public init() {}

    /// The defaults overridden by `ENCORE_*` environment variables; unknown or malformed values are errors.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> EncoreConfiguration {
        var configuration = EncoreConfiguration()
        for setting in settings {
            guard let raw = environment[setting.environmentVariable], !raw.isEmpty else { continue }
            try setting.apply(raw, &configuration)
        }
        return configuration
    }

    /// Applies one setting given by its environment variable's name (flags go through here too, so a flag
    /// and its variable accept exactly the same values).
    public mutating func set(_ environmentVariable: String, to raw: String) throws {
        guard let setting = Self.settings.first(where: { $0.environmentVariable == environmentVariable }) else {
            throw ConfigurationError("unknown setting \(environmentVariable)")
        }
        try setting.apply(raw, &self)
    }

    /// The database location, with the default filled in.
    public var resolvedDatabaseURL: String { databaseURL ?? "sqlite:\(dataDirectory)/encore.sqlite" }
    /// The storage location, with the default filled in.
    public var resolvedStorageURL: String { storageURL ?? "file:\(dataDirectory)/blobs" }
}

/// One setting: its names, its default, what it means, and how a value is read.
public struct Setting: Sendable {
    public let environmentVariable: String
    /// The flags of the commands that take it (`--port`; `encore worker` calls `--workers` `--concurrency`).
    public let flags: [String]
    /// The default, as the README states it.
    public let defaultValue: String
    public let meaning: String
    let apply: @Sendable (String, inout EncoreConfiguration) throws -> Void

    /// `--help` text for the setting's flag: its meaning, variable and default.
    public var help: String { "\(meaning) (env \(environmentVariable), default \(defaultValue))" }
}

extension EncoreConfiguration {
    /// Every setting, in the order the README lists them.
    public static let settings: [Setting] = [
        Setting(
            environmentVariable: "ENCORE_ROLE", flags: ["--role"], defaultValue: "all",
            meaning: "What `serve` runs: `all`, or one tier: `api` (JSON, Subsonic, web app), `media` (signed objects), `worker` (pipeline jobs)"
        ) {
            guard let role = ServerRole(rawValue: $0) else {
                throw ConfigurationError("ENCORE_ROLE must be one of all, api, media, worker, not \($0)")
            }
            $1.role = role
        },
        Setting(
            environmentVariable: "ENCORE_HOST", flags: ["--host"], defaultValue: "127.0.0.1", meaning: "Interface to listen on (`0.0.0.0` for all)"
        ) {
            $1.host = $0
        },
        Setting(
            environmentVariable: "ENCORE_PORT", flags: ["--port"], defaultValue: "8080",
            meaning: "Port to listen on; `0` picks a free one and prints it"
        ) {
            $1.port = try integer($0, "ENCORE_PORT", 0...65535)
        },
        Setting(
            environmentVariable: "ENCORE_DATA_DIR", flags: ["--data-dir"], defaultValue: "./data",
            meaning: "The secret, the pipeline's work files and, unless set apart, the database and blobs"
        ) { $1.dataDirectory = $0 },
        Setting(
            environmentVariable: "ENCORE_DATABASE_URL", flags: [], defaultValue: "sqlite:{data dir}/encore.sqlite",
            meaning:
                "The catalog database: `sqlite:PATH` (one file, WAL mode) or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…]` "
                + "(see \"Deploying\")"
        ) {
            if $0.hasPrefix("postgres://") || $0.hasPrefix("postgresql://") {
                $1.databaseURL = $0
            } else {
                $1.databaseURL = try location($0, "ENCORE_DATABASE_URL", schemes: ["sqlite"])
            }
        },
        Setting(
            environmentVariable: "ENCORE_DATABASE_READ_URL", flags: [], defaultValue: "none",
            meaning: "Comma-separated `postgres://` URLs of read replicas; reads go there, writes and read-your-writes to the primary"
        ) {
            let urls = $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard urls.allSatisfy({ $0.hasPrefix("postgres://") || $0.hasPrefix("postgresql://") }) else {
                throw ConfigurationError("ENCORE_DATABASE_READ_URL must be postgres:// URLs, separated by commas")
            }
            $1.databaseReadURLs = urls
        },
        Setting(
            environmentVariable: "ENCORE_MIGRATE", flags: [], defaultValue: "true",
            meaning: "Whether opening the database applies pending migrations (`false`: only `encore migrate` does)"
        ) {
            switch $0.lowercased() {
            case "true", "1", "yes": $1.migrateOnStart = true
            case "false", "0", "no": $1.migrateOnStart = false
            default: throw ConfigurationError("ENCORE_MIGRATE must be true or false, not \($0)")
            }
        },
        Setting(
            environmentVariable: "ENCORE_STORAGE", flags: [], defaultValue: "file:{data dir}/blobs",
            meaning:
                "Object storage: `file:PATH` (a local directory served by Encore's own media origin) or "
                + "`s3://BUCKET[/ROOT]?endpoint=URL&region=R[&public_endpoint=URL]` (any S3 API; see \"Running on S3\")"
        ) {
            if $0.hasPrefix("s3://") {
                _ = try S3Location(parsing: $0)
                $1.storageURL = $0
            } else {
                $1.storageURL = try location($0, "ENCORE_STORAGE", schemes: ["file"])
            }
        },
        Setting(environmentVariable: "AWS_ACCESS_KEY_ID", flags: [], defaultValue: "none", meaning: "S3 access key, for `s3://` storage") {
            $1.s3AccessKeyId = $0
        },
        Setting(environmentVariable: "AWS_SECRET_ACCESS_KEY", flags: [], defaultValue: "none", meaning: "S3 secret key, for `s3://` storage") {
            $1.s3SecretAccessKey = $0
        },
        Setting(
            environmentVariable: "AWS_SESSION_TOKEN", flags: [], defaultValue: "none", meaning: "S3 session token, for temporary credentials"
        ) { $1.s3SessionToken = $0 },
        Setting(
            environmentVariable: "ENCORE_TRUSTED_PROXIES", flags: [], defaultValue: "none",
            meaning: "Comma-separated IP addresses of proxies (the edge, a balancer) whose `X-Forwarded-For` names the client, for sign-in limits"
        ) {
            $1.trustedProxies = Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        },
        Setting(
            environmentVariable: "ENCORE_PUBLIC_URL", flags: ["--public-url"], defaultValue: "http://host:port",
            meaning: "Base of the signed URLs handed to clients (set it behind a proxy)"
        ) { $1.publicBaseURL = $0 },
        Setting(
            environmentVariable: "ENCORE_MEDIA_URL", flags: ["--media-url"], defaultValue: "the public URL",
            meaning: "Base of media URLs (`/media/…`) when a caching edge serves them (see \"Behind a caching edge\")"
        ) { $1.mediaBaseURL = $0 },
        Setting(
            environmentVariable: "ENCORE_SECRET", flags: [], defaultValue: "generated into {data dir}/secret.key",
            meaning: "Master key for tokens and signed URLs (at least 32 characters); the generated file has mode 0600"
        ) {
            guard $0.utf8.count >= 32 else { throw ConfigurationError("ENCORE_SECRET must be at least 32 characters") }
            $1.secret = $0
        },
        Setting(environmentVariable: "ENCORE_BCRYPT_COST", flags: [], defaultValue: "12", meaning: "bcrypt work factor (4-31)") {
            $1.bcryptCost = try integer($0, "ENCORE_BCRYPT_COST", 4...31)
        },
        Setting(environmentVariable: "ENCORE_TOKEN_TTL", flags: [], defaultValue: "86400", meaning: "Access token lifetime, seconds") {
            $1.accessTokenLifetime = .seconds(try integer($0, "ENCORE_TOKEN_TTL", 60...31_536_000))
        },
        Setting(environmentVariable: "ENCORE_UPLOAD_URL_TTL", flags: [], defaultValue: "900", meaning: "Upload URL lifetime, seconds") {
            $1.uploadURLLifetime = .seconds(try integer($0, "ENCORE_UPLOAD_URL_TTL", 10...604_800))
        },
        Setting(
            environmentVariable: "ENCORE_STREAM_URL_TTL", flags: [], defaultValue: "3600",
            meaning: "Stream URL lifetime, seconds (long enough to finish a long track with range requests)"
        ) {
            $1.streamURLLifetime = .seconds(try integer($0, "ENCORE_STREAM_URL_TTL", 10...604_800))
        },
        Setting(
            environmentVariable: "ENCORE_UNATTACHED_UPLOAD_TTL", flags: [], defaultValue: "86400",
            meaning: "Seconds an upload may wait for `POST /tracks` (or a cover) before workers delete it"
        ) { $1.unattachedUploadLifetime = .seconds(try integer($0, "ENCORE_UNATTACHED_UPLOAD_TTL", 60...31_536_000)) },
        Setting(environmentVariable: "ENCORE_MAX_UPLOAD_BYTES", flags: [], defaultValue: "2147483648", meaning: "Largest audio upload, bytes") {
            $1.maxUploadBytes = try integer($0, "ENCORE_MAX_UPLOAD_BYTES", 1...(1 << 40))
        },
        Setting(environmentVariable: "ENCORE_MAX_DURATION", flags: [], defaultValue: "14400", meaning: "Longest audio accepted, seconds") {
            $1.maxAudioDuration = .seconds(try integer($0, "ENCORE_MAX_DURATION", 1...86_400))
        },
        Setting(
            environmentVariable: "ENCORE_WORKERS", flags: ["--workers", "--concurrency"], defaultValue: "number of cores",
            meaning: "Pipeline jobs run at once by this process; `0` leaves them to `encore worker` processes"
        ) { $1.workers = try integer($0, "ENCORE_WORKERS", 0...256) },
        Setting(
            environmentVariable: "ENCORE_JOB_LEASE", flags: [], defaultValue: "60",
            meaning: "Seconds before a silent worker's job is given to another"
        ) {
            let seconds = try integer($0, "ENCORE_JOB_LEASE", 1...86_400)
            $1.jobLease = .seconds(seconds)
            $1.jobHeartbeat = min($1.jobHeartbeat, .milliseconds(seconds * 1000 / 4))
        },
        Setting(
            environmentVariable: "ENCORE_READ_CACHE_MS", flags: [], defaultValue: "1000",
            meaning: "How stale a user, artist, album or track read by id may be when another process changed it (`0`: no cache)"
        ) { $1.readCacheMaxAge = .milliseconds(try integer($0, "ENCORE_READ_CACHE_MS", 0...60_000)) },
        Setting(
            environmentVariable: "ENCORE_MEDIA_CACHE_MB", flags: [], defaultValue: "64",
            meaning: "Memory for small media objects (segments, playlists) kept by the media origin (`0`: none)"
        ) { $1.mediaCacheBytes = try integer($0, "ENCORE_MEDIA_CACHE_MB", 0...65_536) << 20 },
        Setting(
            environmentVariable: "ENCORE_MAX_CONNECTIONS", flags: [], defaultValue: "10000",
            meaning: "Connections served at once (one accept round may take a few more); more wait in the listen backlog"
        ) {
            $1.maxConnections = try integer($0, "ENCORE_MAX_CONNECTIONS", 1...1_000_000)
        },
        Setting(
            environmentVariable: "ENCORE_IDLE_TIMEOUT", flags: [], defaultValue: "60",
            meaning: "Seconds without reads or writes before a keep-alive connection is closed (never while a file is being sent)"
        ) { $1.idleTimeout = .seconds(try integer($0, "ENCORE_IDLE_TIMEOUT", 1...3600)) },
        Setting(
            environmentVariable: "ENCORE_FFPROBE", flags: [], defaultValue: "ffprobe",
            meaning: "ffprobe, looked up on `PATH`; needed only by commands that transcode"
        ) { $1.ffprobePath = $0 },
        Setting(
            environmentVariable: "ENCORE_FFMPEG", flags: [], defaultValue: "ffmpeg",
            meaning: "ffmpeg, looked up on `PATH`; needed only by commands that transcode"
        ) { $1.ffmpegPath = $0 },
        Setting(
            environmentVariable: "ENCORE_FPCALC", flags: [], defaultValue: "fpcalc",
            meaning: "Chromaprint's fpcalc, looked up on `PATH`; needed only by commands that transcode"
        ) {
            $1.fpcalcPath = $0
        },
        Setting(
            environmentVariable: "ENCORE_LOG_LEVEL", flags: [], defaultValue: "info",
            meaning: "`trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`"
        ) {
            guard let level = Logger.Level(rawValue: $0) else {
                throw ConfigurationError("ENCORE_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical, not \($0)")
            }
            $1.logLevel = level
        },
    ]

    /// The settings as the README's Markdown table.
    public static var settingsTable: String {
        var lines = ["| variable | flag | default | meaning |", "|---|---|---|---|"]
        for setting in settings {
            lines.append(
                "| `\(setting.environmentVariable)` | \(setting.flags.map { "`\($0)`" }.joined(separator: ", ")) | \(setting.defaultValue) | \(setting.meaning) |"
            )
        }
        return lines.joined(separator: "\n")
    }

    private static func integer(_ raw: String, _ name: String, _ range: ClosedRange<Int>) throws -> Int {
        guard let number = Int(raw), range.contains(number) else {
            throw ConfigurationError("\(name) must be a whole number in \(range.lowerBound)…\(range.upperBound), not \(raw)")
        }
        return number
    }

    /// A `scheme:path` location whose scheme is one Encore can use.
    private static func location(_ raw: String, _ name: String, schemes: [String]) throws -> String {
        guard let colon = raw.firstIndex(of: ":"), schemes.contains(String(raw[..<colon])), raw.index(after: colon) < raw.endIndex else {
            throw ConfigurationError("\(name) must look like \(schemes.map { "\($0):PATH" }.joined(separator: " or ")), not \(raw)")
        }
        return raw
    }
}

/// Where an S3 bucket is: `s3://BUCKET[/ROOT]?endpoint=URL&region=REGION[&public_endpoint=URL]`.
/// The endpoint is required (Encore does not guess AWS host names); the region defaults to `us-east-1`.
public struct S3Location: Sendable, Equatable {
    public var bucket: String
    public var root: String
    public var endpoint: String
    public var publicEndpoint: String?
    public var region: String

    public init(parsing raw: String) throws {
        let usage = "ENCORE_STORAGE must look like s3://BUCKET[/ROOT]?endpoint=http://host:port&region=REGION, not \(raw)"
        guard raw.hasPrefix("s3://"), let components = URLComponents(string: raw), let bucket = components.host, !bucket.isEmpty else {
            throw ConfigurationError(usage)
        }
        var values: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard ["endpoint", "region", "public_endpoint"].contains(item.name), let value = item.value, !value.isEmpty else {
                throw ConfigurationError("\(usage) (unknown or empty parameter \(item.name))")
            }
            values[item.name] = value
        }
        guard let endpoint = values["endpoint"], Self.isHTTP(endpoint) else { throw ConfigurationError("\(usage) (endpoint= is required)") }
        if let publicEndpoint = values["public_endpoint"], !Self.isHTTP(publicEndpoint) {
            throw ConfigurationError("\(usage) (public_endpoint must be an http(s) URL)")
        }
        self.bucket = bucket
        root = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.endpoint = endpoint
        publicEndpoint = values["public_endpoint"]
        region = values["region"] ?? "us-east-1"
    }

    private static func isHTTP(_ url: String) -> Bool {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, parsed.host != nil else { return false }
        return scheme == "http" || scheme == "https"
    }
}

/// A configuration value that cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
