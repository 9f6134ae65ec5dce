import EncoreCore
import Foundation
import NIOCore
import _NIOFileSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Blob store on a local directory. Objects are plain files under `root`, written through a temporary
/// file and published with `link(2)`, so an object appears whole or not at all and is never overwritten.
/// Signed URLs point at Encore's own media origin (`/media/{token}/{key}`).
public struct LocalBlobStore: BlobStore {
    public let root: String
    let temporaryDirectory: String
    let signer: MediaURLSigner
    /// The origin's public base URL (`http://host:port`), asked for when a URL is signed: a server bound to
    /// port 0 learns its port only once it is listening.
    let baseURL: @Sendable () -> String

    /// - Parameters:
    ///   - root: directory holding the objects; created when missing.
    ///   - temporaryDirectory: where uploads are written before they are published; same file system as `root`.
    public init(root: String, temporaryDirectory: String, signer: MediaURLSigner, baseURL: @escaping @Sendable () -> String) throws {
        self.root = root
        self.temporaryDirectory = temporaryDirectory
        self.signer = signer
        self.baseURL = baseURL
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
    }

    /// The file that holds `key`'s bytes. Keys cannot contain `..` or empty segments, so this stays under `root`.
    public func path(of key: BlobKey) -> String { root + "/" + key.rawValue }

    public func put<Body: AsyncSequence>(_ key: BlobKey, body: Body, maxBytes: Int) async throws -> BlobInfo
    where Body.Element == ByteBuffer {
        if try await info(key) != nil { throw Self.exists(key) }
        let temporary = temporaryDirectory + "/" + UUID().uuidString
        defer { unlink(temporary) }
        try await FileSystem.shared.withFileHandle(forWritingAt: FilePath(temporary), options: .newFile(replaceExisting: false)) { handle in
            var writer = handle.bufferedWriter()
            var written = 0
            for try await chunk in body {
                written += chunk.readableBytes
                guard written <= maxBytes else {
                    throw EncoreError(.uploadTooLarge, "The upload exceeds the limit of \(maxBytes) bytes.")
                }
                try await writer.write(contentsOf: chunk)
            }
            try await writer.flush()
            try await handle.synchronize()
        }
        try publish(from: temporary, to: key)
        guard let info = try await info(key) else { throw Self.missing(key) }
        return info
    }

    public func putFile(_ key: BlobKey, from path: String) async throws -> BlobInfo {
        // Files Encore made itself (the pipeline works next to the blobs) are hard-linked, no copying.
        // Anyone else's file is copied: a link would let later edits of it change a stored object.
        let ours = path.hasPrefix((temporaryDirectory as NSString).deletingLastPathComponent + "/")
        if !ours {
            let temporary = temporaryDirectory + "/" + UUID().uuidString
            defer { unlink(temporary) }
            try FileManager.default.copyItem(atPath: path, toPath: temporary)
            try publish(from: temporary, to: key)
        } else if link(path, self.path(of: key)) != 0 {
            switch errno {
            case EEXIST: throw Self.exists(key)
            case ENOENT:
                try FileManager.default.createDirectory(
                    atPath: (self.path(of: key) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                guard FileManager.default.fileExists(atPath: path) else { throw Self.missing(key) }
                return try await putFile(key, from: path)
            default:
                // Another file system: copy into the temporary directory, then publish.
                let temporary = temporaryDirectory + "/" + UUID().uuidString
                defer { unlink(temporary) }
                try FileManager.default.copyItem(atPath: path, toPath: temporary)
                try publish(from: temporary, to: key)
            }
        }
        guard let info = try await info(key) else { throw Self.missing(key) }
        return info
    }

    public func copy(_ source: BlobKey, to destination: BlobKey) async throws {
        // Objects are never modified in place, so sharing the inode is a safe copy.
        var status = stat()
        guard stat(path(of: source), &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { throw Self.missing(source) }
        try publish(from: path(of: source), to: destination)
    }

    public func info(_ key: BlobKey) async throws -> BlobInfo? {
        var status = stat()
        guard stat(path(of: key), &status) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw Self.systemError("stat", key)
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Self.info(key, status)
    }

    /// The info of a `stat` result. The modification time's field is named differently on Darwin.
    private static func info(_ key: BlobKey, _ status: stat) -> BlobInfo {
        #if canImport(Darwin)
            let modified = status.st_mtimespec
        #else
            let modified = status.st_mtim
        #endif
        return info(key, size: Int(status.st_size), seconds: Int(modified.tv_sec), nanoseconds: Int(modified.tv_nsec))
    }

    /// The ETag is the file's size and modification time: objects are write-once, so a key whose ETag is
    /// unchanged still holds the same bytes.
    private static func info(_ key: BlobKey, size: Int, seconds: Int, nanoseconds: Int) -> BlobInfo {
        let nanos = seconds * 1_000_000_000 + nanoseconds
        let etag = "\"\(String(size, radix: 16))-\(String(nanos, radix: 16))\""
        return BlobInfo(key: key, size: size, etag: etag, modifiedAt: Date(timeIntervalSince1970: TimeInterval(nanos) / 1e9))
    }

    /// An open read-only descriptor on the object's file and the ``BlobInfo`` of that very file, or nil
    /// when there is no such object. The caller owns (and closes) the descriptor. Blocking, but two cheap
    /// system calls on a local file system: meant for serving a file with `sendfile(2)`.
    public func openForReading(_ key: BlobKey) -> (descriptor: CInt, info: BlobInfo)? {
        let descriptor = open(path(of: key), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            return nil
        }
        return (descriptor, Self.info(key, status))
    }

    /// The whole object in memory with the ``BlobInfo`` of exactly those bytes, or nil when there is no
    /// such object or it is larger than `maxBytes`.
    public func contents(of key: BlobKey, upTo maxBytes: Int) async throws -> (info: BlobInfo, bytes: ByteBuffer)? {
        do {
            return try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path(of: key))) { handle in
                let status = try await handle.info()
                guard status.type == .regular, status.size <= maxBytes else { return nil }
                let info = Self.info(
                    key, size: Int(status.size), seconds: status.lastDataModificationTime.seconds,
                    nanoseconds: status.lastDataModificationTime.nanoseconds)
                let bytes = try await handle.readToEnd(maximumSizeAllowed: .bytes(Int64(maxBytes)))
                // Same size as the stat: the file did not change while it was read (objects never do).
                return bytes.readableBytes == info.size ? (info, bytes) : nil
            }
        } catch let error as FileSystemError where error.code == .notFound {
            return nil
        }
    }

    public func move(_ source: BlobKey, to destination: BlobKey) async throws {
        var status = stat()
        guard stat(path(of: source), &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { throw Self.missing(source) }
        try publish(from: path(of: source), to: destination)
        try remove(source)
    }

    public func delete(_ key: BlobKey) async throws {
        try remove(key)
    }

    public func deleteAll(under prefix: BlobKey) async throws {
        let target = path(of: prefix)
        guard FileManager.default.fileExists(atPath: target) else { return }
        try FileManager.default.removeItem(atPath: target)
        pruneEmptyParents(of: prefix)
    }

    public func list(under prefix: BlobKey) async throws -> [BlobKey] {
        let base = path(of: prefix)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: base, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [prefix] }
        let files = FileManager.default.enumerator(atPath: base)?.compactMap { $0 as? String } ?? []
        return files.compactMap { relative in
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: base + "/" + relative, isDirectory: &isDirectory)
            return isDirectory.boolValue ? nil : prefix.appending(relative)
        }.sorted()
    }

    public func fetch(_ key: BlobKey, to destination: String) async throws {
        var status = stat()
        guard stat(path(of: key), &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { throw Self.missing(key) }
        // Objects are never modified in place: a hard link is a copy that costs nothing.
        guard link(path(of: key), destination) != 0 else { return }
        guard errno == EXDEV || errno == EPERM else {
            throw errno == EEXIST ? Self.exists(key) : Self.systemError("link", key)
        }
        try FileManager.default.copyItem(atPath: path(of: key), toPath: destination)
    }

    public func read(_ key: BlobKey, range: Range<Int>) async throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: path(of: key)) else { throw Self.missing(key) }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(range.lowerBound))
        return try handle.read(upToCount: range.count) ?? Data()
    }

    public func checkWritable() async throws {
        guard FileManager.default.isWritableFile(atPath: root), FileManager.default.isWritableFile(atPath: temporaryDirectory) else {
            throw EncoreError(.storageUnavailable, "The blob directory is not writable.")
        }
    }

    public func signedUploadURL(for key: BlobKey, maxBytes: Int, exactBytes: Int?, expiresAt: Date) throws -> String {
        url(token: signer.token(for: MediaGrant(access: .write, scope: key, expiresAt: expiresAt, maxBytes: exactBytes ?? maxBytes)), key: key)
    }

    public func signedReadURL(for key: BlobKey, scope: BlobKey, expiresAt: Date) throws -> String {
        precondition(key.isWithin(scope), "a read URL's scope must contain its key")
        return url(token: signer.token(for: MediaGrant(access: .read, scope: scope, expiresAt: expiresAt)), key: key)
    }

    /// Checks a media request against its token; see ``MediaURLSigner/verify(token:method:key:now:)``.
    public func verify(token: String, method: String, key: BlobKey, now: Date = Date()) throws -> MediaGrant {
        try signer.verify(token: token, method: method, key: key, now: now)
    }

    private func url(token: String, key: BlobKey) -> String {
        "\(baseURL())/media/\(token)/\(key.rawValue)"
    }

    /// Hard-links `file` to `key`'s path: atomic, and fails rather than replace an existing object.
    private func publish(from file: String, to key: BlobKey) throws {
        let destination = path(of: key)
        try FileManager.default.createDirectory(
            atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard link(file, destination) == 0 else {
            if errno == EEXIST { throw Self.exists(key) }
            if errno == ENOENT { throw Self.missing(key) }
            throw Self.systemError("link", key)
        }
    }

    private func remove(_ key: BlobKey) throws {
        guard unlink(path(of: key)) == 0 || errno == ENOENT || errno == ENOTDIR else { throw Self.systemError("unlink", key) }
        pruneEmptyParents(of: key)
    }

    /// Removes directories left empty below `root`, so deleted tracks leave no trace.
    private func pruneEmptyParents(of key: BlobKey) {
        var segments = key.segments.dropLast()
        while !segments.isEmpty {
            guard rmdir(root + "/" + segments.joined(separator: "/")) == 0 else { return }
            segments = segments.dropLast()
        }
    }

    static func exists(_ key: BlobKey) -> EncoreError {
        EncoreError(.objectExists, "An object named \(key) exists already.")
    }

    static func missing(_ key: BlobKey) -> EncoreError {
        EncoreError(.objectNotFound, "No object named \(key).")
    }

    static func systemError(_ call: String, _ key: BlobKey) -> EncoreError {
        EncoreError(.storageError, "\(call) failed for \(key): \(String(cString: strerror(errno))).")
    }
}
