import Foundation

/// Users' playlists: private unless made public, changed only by their owner.
public struct PlaylistService: Sendable {
    let environment: ServiceEnvironment
    var store: any DataStore { environment.store }

    /// Longest playlist accepted.
    public static let maxPlaylistLength = 10_000

    public func createPlaylist(_ principal: Principal, title: String, isPublic: Bool) async throws -> Playlist {
        let time = environment.now()
        let playlist = Playlist(
            id: UUID(), ownerId: principal.userId, title: try Validate.text(title, field: .title), isPublic: isPublic,
            trackCount: 0, createdAt: time, updatedAt: time)
        try await store.playlists.insertPlaylist(playlist)
        return playlist
    }

    /// A playlist the caller may see: their own, or a public one. Private playlists of others do not exist
    /// as far as the caller can tell.
    public func playlist(_ principal: Principal, id: UUID) async throws -> Playlist {
        guard let playlist = try await store.playlists.playlist(id: id), playlist.isPublic || principal.mayModify(ownedBy: playlist.ownerId)
        else {
            throw EncoreError.notFound(.playlistNotFound)
        }
        return playlist
    }

    public func playlists(_ principal: Principal, page: PageRequest) async throws -> Page<Playlist> {
        try await store.playlists.playlists(ownerId: principal.userId, page: page)
    }

    public func updatePlaylist(_ principal: Principal, id: UUID, title: String?, isPublic: Bool?) async throws -> Playlist {
        try await ownedPlaylist(principal, id: id)
        let title = try title.map { try Validate.text($0, field: .title) }
        let time = environment.now()
        return try await store.playlists.updatePlaylist(id: id) { playlist in
            if let title { playlist.title = title }
            if let isPublic { playlist.isPublic = isPublic }
            playlist.updatedAt = time
        }
    }

    public func deletePlaylist(_ principal: Principal, id: UUID) async throws {
        try await ownedPlaylist(principal, id: id)
        _ = try await store.playlists.deletePlaylist(id: id)
    }

    public func playlistEntries(_ principal: Principal, id: UUID, page: PageRequest) async throws -> Page<PlaylistEntry> {
        _ = try await playlist(principal, id: id)
        return try await store.playlists.playlistEntries(playlistId: id, page: page)
    }

    /// Inserts a track at `position` (zero-based; default: at the end).
    public func addToPlaylist(_ principal: Principal, id: UUID, trackId: UUID, position: Int?) async throws -> Playlist {
        try await ownedPlaylist(principal, id: id)
        _ = try await environment.track(trackId)
        let time = environment.now()
        return try await store.playlists.updatePlaylistSlots(playlistId: id) { slots in
            guard slots.count < Self.maxPlaylistLength else {
                throw EncoreError(.playlistFull, "A playlist holds at most \(Self.maxPlaylistLength) tracks.")
            }
            let index = position ?? slots.count
            guard (0...slots.count).contains(index) else {
                throw EncoreError(.invalidPosition, "position must be between 0 and \(slots.count).")
            }
            slots.insert(PlaylistSlot(trackId: trackId, addedAt: time), at: index)
        }
    }

    /// Removes the slot at `position` (zero-based).
    public func removeFromPlaylist(_ principal: Principal, id: UUID, position: Int) async throws -> Playlist {
        try await ownedPlaylist(principal, id: id)
        return try await store.playlists.updatePlaylistSlots(playlistId: id) { slots in
            guard position >= 0 else { throw EncoreError(.invalidPosition, "position must be 0 or more.") }
            guard slots.indices.contains(position) else {
                throw EncoreError(.playlistEntryNotFound, "The playlist has no entry at position \(position).")
            }
            slots.remove(at: position)
        }
    }

    /// Moves the slot at `from` so that it ends up at `to` (both zero-based).
    public func movePlaylistEntry(_ principal: Principal, id: UUID, from: Int, to: Int) async throws -> Playlist {
        try await ownedPlaylist(principal, id: id)
        return try await store.playlists.updatePlaylistSlots(playlistId: id) { slots in
            guard slots.indices.contains(from), slots.indices.contains(to) else {
                throw EncoreError(.invalidPosition, "from and to must be between 0 and \(max(slots.count - 1, 0)).")
            }
            slots.insert(slots.remove(at: from), at: to)
        }
    }

    /// Edits a playlist's slots in one transaction, all or nothing: removes the slots at `removing`
    /// (positions in the playlist as it is), or every slot with `replacingAll`, then appends `appending`.
    /// Every appended track must exist; nothing changes when one does not.
    public func editTracks(
        _ principal: Principal, id: UUID, removing: Set<Int> = [], replacingAll: Bool = false, appending: [UUID]
    ) async throws -> Playlist {
        try await ownedPlaylist(principal, id: id)
        guard appending.count <= Self.maxPlaylistLength else {
            throw EncoreError(.playlistFull, "A playlist holds at most \(Self.maxPlaylistLength) tracks.")
        }
        let known = try await store.tracks.tracks(ids: Array(Set(appending)))
        if let missing = appending.first(where: { known[$0] == nil }) {
            throw EncoreError(.trackNotFound, "No track with id \(missing.uuidString.lowercased()).")
        }
        let time = environment.now()
        return try await store.playlists.updatePlaylistSlots(playlistId: id) { slots in
            if replacingAll {
                slots.removeAll()
            } else {
                if let outside = removing.first(where: { !slots.indices.contains($0) }) {
                    throw EncoreError(.playlistEntryNotFound, "The playlist has no entry at position \(outside).")
                }
                slots = slots.enumerated().filter { !removing.contains($0.offset) }.map(\.element)
            }
            guard slots.count + appending.count <= Self.maxPlaylistLength else {
                throw EncoreError(.playlistFull, "A playlist holds at most \(Self.maxPlaylistLength) tracks.")
            }
            slots += appending.map { PlaylistSlot(trackId: $0, addedAt: time) }
        }
    }

    private func ownedPlaylist(_ principal: Principal, id: UUID) async throws {
        try principal.requireOwnership(of: try await playlist(principal, id: id).ownerId)
    }
}
