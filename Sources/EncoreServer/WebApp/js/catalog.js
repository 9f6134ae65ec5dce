// Memoised look-ups of artists, albums and tracks: rows that only carry ids (history, playlist
// entries, the player) need names, and one request per id per page view is plenty.
import { api } from "./api.js";

const caches = { artist: new Map(), album: new Map(), track: new Map() };

function cached(kind, id, load) {
  const cache = caches[kind];
  if (!cache.has(id)) {
    const promise = load(id).catch((err) => { cache.delete(id); throw err; });
    cache.set(id, promise);
  }
  return cache.get(id);
}

export const catalog = {
  artist: (id) => cached("artist", id, api.artist),
  album: (id) => cached("album", id, api.album),
  track: (id) => cached("track", id, api.track),
  forget(kind, id) { caches[kind]?.delete(id); },
  prime(kind, value) { if (value?.id) caches[kind].set(value.id, Promise.resolve(value)); },
};

// A player-ready description of a track: title plus artist and album names when we can get them.
export async function describeTrack(track) {
  const [artist, album] = await Promise.all([
    track.artistName ? null : catalog.artist(track.artistId).catch(() => null),
    catalog.album(track.albumId).catch(() => null),
  ]);
  return {
    id: track.id,
    title: track.title,
    artistName: track.artistName ?? artist?.name ?? "",
    albumTitle: track.albumTitle ?? album?.title ?? "",
    albumId: track.albumId,
    artistId: track.artistId,
    durationMs: track.durationMs,
    coverUrls: album?.coverUrls ?? null,
  };
}
