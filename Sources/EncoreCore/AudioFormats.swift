/// File extensions and media types for the audio containers Encore stores.
public enum AudioFormats {
    /// The file extension to store an original under, from what ffprobe reported.
    public static func fileExtension(container: String, codec: String) -> String {
        let formats = Set(container.split(separator: ",").map(String.init))
        if formats.contains("flac") { return "flac" }
        if formats.contains("wav") { return "wav" }
        if formats.contains("mp3") { return "mp3" }
        if formats.contains("ogg") { return codec == "opus" ? "opus" : "ogg" }
        if formats.contains("aiff") { return "aiff" }
        if formats.contains("webm") || formats.contains("matroska") { return codec == "opus" ? "webm" : "mka" }
        if formats.contains("mp4") || formats.contains("m4a") || formats.contains("mov") { return "m4a" }
        if formats.contains("aac") { return "aac" }
        return "bin"
    }

    /// The `Content-Type` to serve a stored file with, from its extension.
    public static func contentType(forExtension ext: String?) -> String {
        switch ext {
        case "flac": "audio/flac"
        case "wav": "audio/wav"
        case "mp3": "audio/mpeg"
        case "ogg": "audio/ogg"
        case "opus": "audio/ogg; codecs=opus"
        case "aiff": "audio/aiff"
        case "webm": "audio/webm"
        case "mka": "audio/x-matroska"
        case "m4a", "mp4": "audio/mp4"
        case "aac": "audio/aac"
        case "m3u8": "application/vnd.apple.mpegurl"
        case "mpd": "application/dash+xml"
        case "m4s": "audio/mp4"
        case "jpg", "jpeg": "image/jpeg"  // cover thumbnails
        case "png": "image/png"  // uploaded covers
        case "webp": "image/webp"
        default: "application/octet-stream"
        }
    }
}
