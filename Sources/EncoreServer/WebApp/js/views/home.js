// #/: greeting, your playlists and what you played recently.
import { api } from "../api.js";
import { h, setTitle, emptyState, errorBox, formatDate, icon, loading } from "../dom.js";
import { currentUser } from "../session.js";
import { catalog, describeTrack } from "../catalog.js";

export async function render(ctx) {
  setTitle("Home");
  const user = currentUser();
  const playlistsBox = h("div", {}, loading());
  const recentBox = h("div", {}, loading());
  ctx.root.append(h("section.page", { id: "home-view" },
    h("h1", {}, `${greeting()}, ${user.displayName}`),
    h("p.lede", {}, "Search for anything with the box at the top (press / to jump there)."),
    h("div.home-grid", {},
      h("section.card", { aria: { labelledby: "home-playlists" } }, h("h2", { id: "home-playlists" }, "Your playlists"), playlistsBox),
      h("section.card", { aria: { labelledby: "home-recent" } }, h("h2", { id: "home-recent" }, "Recently played"), recentBox))));

  api.playlists().then((playlists) => {
    if (!ctx.isCurrent()) return;
    playlistsBox.replaceChildren(playlists.length
      ? h("ul.link-list", {}, playlists.slice(0, 8).map((p) => h("li", {}, h("a", { href: `#/playlist/${p.id}`, dataset: { playlistId: p.id } }, p.title), h("span.muted", {}, ` ${p.trackCount} tracks`))))
      : emptyState("No playlists yet", "Create one on the Playlists page, then add tracks from any album."),
    h("p", {}, h("a.more-link", { href: "#/playlists" }, "All playlists")));
  }).catch((err) => playlistsBox.replaceChildren(errorBox(err)));

  try {
    const history = await api.history(0, 30);
    if (!ctx.isCurrent()) return;
    const seen = new Set();
    const plays = history.items.filter((p) => !seen.has(p.trackId) && seen.add(p.trackId)).slice(0, 8);
    if (!plays.length) { recentBox.replaceChildren(emptyState("Nothing played yet", "What you listen to shows up here.")); return; }
    const rows = await Promise.all(plays.map(async (play) => {
      const track = await catalog.track(play.trackId).catch(() => null);
      const item = track ? await describeTrack(track) : null;
      return { play, track, item };
    }));
    if (!ctx.isCurrent()) return;
    const playable = rows.filter((r) => r.track?.status === "ready");
    recentBox.replaceChildren(h("ul.recent-list", {}, rows.map(({ play, track, item }) => h("li.recent", { dataset: { trackId: play.trackId } },
      h("button.icon-button.play-track", { type: "button", disabled: track?.status !== "ready", aria: { label: `Play ${track?.title ?? "track"}` },
        onclick: () => { const i = playable.findIndex((r) => r.track.id === play.trackId); ctx.player.playQueue(playable.map((r) => r.item), Math.max(0, i)); } }, icon("play")),
      h("div.track-text", {},
        h("span.track-title", {}, track ? (item.albumId ? h("a", { href: `#/album/${item.albumId}` }, track.title) : track.title) : "A removed track"),
        h("span.track-sub", {}, [item?.artistName, formatDate(play.playedAt)].filter(Boolean).join(" · ")))))),
    h("p", {}, h("a.more-link", { href: "#/history" }, "Full history")));
  } catch (err) {
    recentBox.replaceChildren(errorBox(err));
  }
}

function greeting() {
  const hour = new Date().getHours();
  return hour < 5 ? "Good night" : hour < 12 ? "Good morning" : hour < 18 ? "Good afternoon" : "Good evening";
}
