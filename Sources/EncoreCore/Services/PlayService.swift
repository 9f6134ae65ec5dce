import Foundation

/// Listening reports: what the player says was heard. A play counts toward popularity, play counts and
/// charts once ``Play/counts(msPlayed:trackDurationMs:)`` says so; shorter ones are kept as history.
public struct PlayService: Sendable {
    let environment: ServiceEnvironment
    var store: any DataStore { environment.store }

    /// The longest report accepted: a day of one track on repeat is not one play.
    public static let maxMsPlayed = 86_400_000

    /// Records a play reported by the caller's player. Idempotent per `playId`: a report sent again
    /// (after a lost response) changes nothing and answers the play as first recorded. Returns the play,
    /// and whether this report recorded it.
    public func report(
        _ principal: Principal, playId: UUID, trackId: UUID, msPlayed: Int, playedAt: Date?
    ) async throws -> (play: Play, recorded: Bool) {
        guard (0...Self.maxMsPlayed).contains(msPlayed) else {
            throw EncoreError(.invalidPlay, "msPlayed must be between 0 and \(Self.maxMsPlayed).")
        }
        let now = environment.now()
        let playedAt = playedAt ?? now
        guard playedAt <= now.addingTimeInterval(300) else { throw EncoreError(.invalidPlay, "playedAt must not be in the future.") }
        let track = try await environment.track(trackId)
        let play = Play(
            id: playId, userId: principal.userId, trackId: track.id, playedAt: playedAt, msPlayed: msPlayed,
            counts: Play.counts(msPlayed: msPlayed, trackDurationMs: track.durationMs))
        return try await store.transaction { tx in
            let outcome = try await tx.plays.recordPlay(play)
            // Popularity moves only for a play recorded now, never for a repeated report, and at the time the
            // server learns of it: a backdated report (an offline player syncing) must not rewind the decay clock.
            if outcome.recorded, play.counts { try await tx.searchIndex.played(trackId: track.id, at: now) }
            return outcome
        }
    }

    /// The caller's listening history, newest first.
    public func history(_ principal: Principal, page: PageRequest) async throws -> Page<Play> {
        try await store.plays.history(userId: principal.userId, page: page)
    }

    /// How many counted plays a track has.
    public func playCount(trackId: UUID) async throws -> Int {
        try await store.plays.playCount(trackId: trackId)
    }
}
