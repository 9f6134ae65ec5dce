/// Every error code Encore can answer with: one catalogue, so that the API description lists them, each
/// surface maps them to its own statuses (HTTP here, Subsonic's numeric codes elsewhere) in one place,
/// and no call site invents a code.
///
/// Codes are part of the API: never rename one; add new ones at the end of their group.
public enum ErrorCode: String, Sendable, CaseIterable, Codable {
    // MARK: Malformed requests
    case badRequest = "bad_request"
    case invalidBody = "invalid_body"
    case missingBody = "missing_body"
    case emptyPatch = "empty_patch"
    case invalidId = "invalid_id"
    case invalidOwnerId = "invalid_owner_id"
    case invalidLimit = "invalid_limit"
    case invalidOffset = "invalid_offset"
    case invalidPosition = "invalid_position"
    case invalidPath = "invalid_path"
    case invalidEmail = "invalid_email"
    case weakPassword = "weak_password"
    case invalidPassword = "invalid_password"
    case invalidDisplayName = "invalid_displayName"
    case invalidName = "invalid_name"
    case invalidTitle = "invalid_title"
    case invalidBio = "invalid_bio"
    case invalidGenre = "invalid_genre"
    case invalidReleaseDate = "invalid_releaseDate"
    case invalidArtist = "invalid_artist"
    case invalidAlbum = "invalid_album"
    case invalidCountry = "invalid_country"
    case invalidTrackNumber = "invalid_track_number"
    case invalidTrackUrl = "invalid_track_url"
    case emptyQuery = "empty_query"
    case queryTooLong = "query_too_long"
    case invalidTypes = "invalid_types"
    case invalidPlay = "invalid_play"
    case invalidDuration = "invalid_duration"
    case invalidPlays = "invalid_plays"
    case invalidYear = "invalid_year"
    case invalidAudioPath = "invalid_audio_path"
    case methodNotAllowed = "method_not_allowed"
    case invalidQuery = "invalid_query"
    case unsupportedMediaType = "unsupported_media_type"
    case invalidRating = "invalid_rating"
    case invalidPlayQueue = "invalid_play_queue"
    case missingParameter = "missing_parameter"
    case invalidParameter = "invalid_parameter"
    case clientMustUpgrade = "client_must_upgrade"
    case serverMustUpgrade = "server_must_upgrade"
    case invalidCoverUrl = "invalid_cover_url"

    // MARK: Content that cannot be processed
    case uploadMissing = "upload_missing"
    case invalidAudio = "invalid_audio"
    case duplicateAudio = "duplicate_audio"
    case processingFailed = "processing_failed"
    case invalidImage = "invalid_image"

    // MARK: Credentials and permissions
    case unauthenticated
    case invalidCredentials = "invalid_credentials"
    case invalidToken = "invalid_token"
    case forbidden
    case invalidRole = "invalid_role"
    case artistRoleRequired = "artist_role_required"
    case currentPasswordRequired = "current_password_required"
    case uploadNotYours = "upload_not_yours"
    case urlExpired = "url_expired"
    case invalidSignature = "invalid_signature"
    case outsideScope = "outside_scope"
    case conflictingCredentials = "conflicting_credentials"
    case unsupportedAuthentication = "unsupported_authentication"
    case invalidApiKey = "invalid_api_key"

    // MARK: Things that do not exist
    case notFound = "not_found"
    case userNotFound = "user_not_found"
    case artistNotFound = "artist_not_found"
    case albumNotFound = "album_not_found"
    case trackNotFound = "track_not_found"
    case playlistNotFound = "playlist_not_found"
    case playlistEntryNotFound = "playlist_entry_not_found"
    case appPasswordNotFound = "app_password_not_found"
    case objectNotFound = "object_not_found"

    // MARK: Conflicts with the current state
    case conflict
    case emailTaken = "email_taken"
    case trackNumberTaken = "track_number_taken"
    case uploadAlreadyUsed = "upload_already_used"
    case referenceMissing = "reference_missing"
    case objectExists = "object_exists"
    case trackNotReady = "track_not_ready"
    case trackFailed = "track_failed"
    case playlistFull = "playlist_full"
    case playIdTaken = "play_id_taken"
    case appPasswordLimit = "app_password_limit"
    case rangeNotSatisfiable = "range_not_satisfiable"

    // MARK: Limits
    case bodyTooLarge = "body_too_large"
    case uploadTooLarge = "upload_too_large"
    case tooManyAttempts = "too_many_attempts"

    // MARK: Dependencies
    case notReady = "not_ready"
    case storageUnavailable = "storage_unavailable"
    case storageError = "storage_error"
    case toolUnavailable = "tool_unavailable"

    // MARK: Our own failures
    case internalError = "internal_error"
    case corruptRow = "corrupt_row"
    case transcodeFailed = "transcode_failed"
    case loudnessMissing = "loudness_missing"
    case packagingFailed = "packaging_failed"
    case fingerprintFailed = "fingerprint_failed"

    /// What sort of failure the code names.
    public var kind: EncoreError.Kind {
        switch self {
        case .badRequest, .invalidBody, .missingBody, .emptyPatch, .invalidId, .invalidOwnerId, .invalidLimit, .invalidOffset,
            .invalidPosition, .invalidPath, .invalidEmail, .weakPassword, .invalidPassword, .invalidDisplayName, .invalidName, .invalidTitle,
            .invalidBio, .invalidGenre, .invalidReleaseDate, .invalidArtist, .invalidAlbum, .invalidCountry, .invalidTrackNumber, .invalidTrackUrl,
            .invalidCoverUrl,
            .emptyQuery,
            .queryTooLong, .invalidTypes, .invalidPlay, .invalidQuery, .invalidDuration, .invalidPlays, .invalidYear, .invalidAudioPath,
            .invalidRating, .invalidPlayQueue, .missingParameter, .invalidParameter, .clientMustUpgrade, .serverMustUpgrade:
            .invalidInput
        case .unsupportedMediaType:
            .unsupportedFormat
        case .uploadMissing, .invalidAudio, .duplicateAudio, .processingFailed, .invalidImage:
            .unprocessable
        case .unauthenticated, .invalidCredentials, .invalidToken, .conflictingCredentials, .unsupportedAuthentication, .invalidApiKey:
            .unauthenticated
        case .forbidden, .invalidRole, .artistRoleRequired, .currentPasswordRequired, .uploadNotYours, .urlExpired, .invalidSignature,
            .outsideScope, .methodNotAllowed:
            .forbidden
        case .notFound, .userNotFound, .artistNotFound, .albumNotFound, .trackNotFound, .playlistNotFound, .playlistEntryNotFound,
            .appPasswordNotFound, .objectNotFound:
            .notFound
        case .conflict, .emailTaken, .trackNumberTaken, .uploadAlreadyUsed, .referenceMissing, .objectExists, .trackNotReady, .trackFailed,
            .playlistFull, .playIdTaken, .appPasswordLimit, .rangeNotSatisfiable:
            .conflict
        case .bodyTooLarge, .uploadTooLarge:
            .tooLarge
        case .tooManyAttempts:
            .rateLimited
        case .notReady, .storageUnavailable, .storageError, .toolUnavailable:
            .unavailable
        case .internalError, .corruptRow, .transcodeFailed, .loudnessMissing, .packagingFailed, .fingerprintFailed:
            .internalFailure
        }
    }
}
