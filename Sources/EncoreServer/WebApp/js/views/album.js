// #/album/{id}: cover, metadata, track list, "Play album".
import { api } from "../api.js";
import { h, setTitle, emptyState, formatMs, cover, plural, icon } from "../dom.js";
import { catalog } from "../catalog.js";
import { trackRow, playableStatus } from "../track-rows.js";

export async function render(ctx) {
  const [album, tracks] = await Promise.all([api.album(ctx.params.id), api.albumTracks(ctx.params.id)]);
  const artist = await catalog.artist(album.artistId).catch(() => null);
  if (!ctx.isCurrent()) return;
  catalog.prime("album", album);
  setTitle(album.title);
  tracks.sort((a, b) => (a.trackNumber ?? 0) - (b.trackNumber ?? 0));
  const item = (t) => ({ id: t.id, title: t.title, artistName: artist?.name ?? "", albumTitle: album.title, albumId: album.id, artistId: album.artistId, durationMs: t.durationMs, coverUrls: album.coverUrls ?? null });
  const playable = tracks.filter((t) => !playableStatus(t));
  const playFrom = (track) => ctx.player.playQueue(playable.map(item), Math.max(0, playable.findIndex((t) => t.id === track.id)));
  const total = tracks.reduce((sum, t) => sum + (t.durationMs ?? 0), 0);
  const year = album.releaseDate?.slice(0, 4);

  ctx.root.append(h("section.page", { id: "album-view" },
    h("div.hero", {},
      cover(album.coverUrls, 300, `Cover of ${album.title}`),
      h("div.hero-text", {},
        h("p.eyebrow", {}, "Album"),
        h("h1", {}, album.title),
        h("p.hero-meta", {},
          artist ? h("a", { href: `#/artist/${artist.id}` }, artist.name) : null,
          [year, album.genre, plural(tracks.length, "track"), total ? formatMs(total) : null].filter(Boolean).map((x) => ` · ${x}`).join("")),
        h("div.hero-actions", {},
          h("button.button.primary", { id: "play-album", type: "button", disabled: !playable.length, onclick: () => ctx.player.playQueue(playable.map(item), 0) }, icon("play"), "Play album")))),
    tracks.length
      ? h("ol.track-list", { aria: { label: "Tracks" } }, tracks.map((t, i) => trackRow(t, { number: t.trackNumber ?? i + 1, onPlay: () => playFrom(t) })))
      : emptyState("This album has no tracks yet", "Tracks appear here once the artist uploads them.")));
}
