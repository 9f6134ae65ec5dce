// #/artist/{id}: the artist and their albums.
import { api } from "../api.js";
import { h, setTitle, emptyState, cover } from "../dom.js";

export async function render(ctx) {
  const [artist, albums] = await Promise.all([api.artist(ctx.params.id), api.artistAlbums(ctx.params.id)]);
  if (!ctx.isCurrent()) return;
  setTitle(artist.name);
  albums.sort((a, b) => (b.releaseDate ?? "").localeCompare(a.releaseDate ?? ""));
  ctx.root.append(h("section.page", { id: "artist-view" },
    h("div.hero.compact", {},
      h("div.hero-text", {},
        h("p.eyebrow", {}, "Artist"),
        h("h1", {}, artist.name),
        artist.country ? h("p.hero-meta", {}, artist.country) : null,
        artist.bio ? h("p.bio", {}, artist.bio) : null)),
    h("h2", {}, "Albums"),
    albums.length
      ? h("ul.album-grid", {}, albums.map((a) => h("li", {},
          h("a.album-card", { href: `#/album/${a.id}`, dataset: { albumId: a.id } },
            cover(a.coverUrls, 300, ""),
            h("span.album-title", {}, a.title),
            h("span.album-meta", {}, [a.releaseDate?.slice(0, 4), a.genre].filter(Boolean).join(" · ") || " ")))))
      : emptyState("No albums yet", "Albums show up here when the artist publishes them.")));
}
