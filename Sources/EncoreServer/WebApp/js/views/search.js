// #/search?q=…: results as a listbox, updated in place while the user types in the header.
import { api } from "../api.js";
import { h, clear, errorBox, emptyState, formatMs, setTitle, cover } from "../dom.js";
import { navigate } from "../router.js";
import { setActiveOption } from "../search-box.js";
import { playableStatus } from "../track-rows.js";

let view = null; // { list, status, player, controller, q }

export async function render(ctx) {
  const status = h("p.search-status", { role: "status" });
  const list = h("div.search-results", { id: "search-results", role: "listbox", aria: { label: "Search results" } });
  ctx.root.append(h("section.page", { id: "search-view" }, h("h1", {}, "Search"), status, list));
  view = { list, status, player: ctx.player, controller: null, q: null };
  const input = document.getElementById("search-input");
  const q = ctx.query.q ?? "";
  if (input.value.trim() !== q) input.value = q;
  // The input controls the listbox only while it exists: a dangling aria-controls misleads screen readers.
  input.setAttribute("aria-controls", "search-results");
  update(q);
  return () => {
    view?.controller?.abort();
    view = null;
    input.removeAttribute("aria-activedescendant");
    input.removeAttribute("aria-controls");
  };
}

export async function update(q) {
  if (!view || q === view.q) return;
  view.q = q;
  view.controller?.abort();
  const input = document.getElementById("search-input");
  input.removeAttribute("aria-activedescendant");
  setTitle(q ? `Search: ${q}` : "Search");
  if (!q.trim()) {
    clear(view.list).append(emptyState("Find something to play", "Type a track, album or artist name. Typos and missing accents are fine."));
    view.status.textContent = "";
    return;
  }
  const controller = new AbortController();
  view.controller = controller;
  view.status.textContent = "Searching…";
  let results;
  try {
    results = await api.search(q, { signal: controller.signal });
  } catch (err) {
    if (err.name === "AbortError" || !view || view.controller !== controller) return;
    view.status.textContent = "";
    clear(view.list).append(errorBox(err));
    return;
  }
  if (!view || view.controller !== controller) return;
  show(results);
}

function show({ tracks = [], albums = [], artists = [] }) {
  const { list, status, player } = view;
  clear(list);
  const count = tracks.length + albums.length + artists.length;
  status.textContent = count ? `${count} result${count === 1 ? "" : "s"}` : "";
  if (!count) {
    list.append(emptyState(`Nothing found for “${view.q}”`, "Check the spelling or try fewer words."));
    return;
  }
  const playable = tracks.filter((t) => !playableStatus(t));
  const group = (label, items) => items.length ? list.append(h("div.result-group", { role: "group", aria: { label } },
    h("div.group-label", { role: "presentation" }, label), ...items)) : null;

  group("Tracks", tracks.map((t) => option("track", t.id, t.title, [t.artistName, t.albumTitle].filter(Boolean).join(" · "),
    t.durationMs ? formatMs(t.durationMs) : "", playableStatus(t), () => {
      if (playableStatus(t)) return;
      const rest = playable.filter((x) => x.id !== t.id);
      player.playQueue([t, ...rest].map(toItem), 0);
    })));
  group("Albums", albums.map((a) => option("album", a.id, a.title, "Album", "", null, () => navigate(`#/album/${a.id}`), a.coverUrls)));
  group("Artists", artists.map((a) => option("artist", a.id, a.name, "Artist", "", null, () => navigate(`#/artist/${a.id}`))));
}

function option(kind, id, title, subtitle, meta, disabledReason, activate, coverUrls) {
  return h("div.result", {
    role: "option", id: `result-${kind}-${id}`, dataset: { kind, id },
    aria: { selected: "false", disabled: disabledReason ? "true" : undefined },
    onclick: (event) => {
      setActiveOption(document.getElementById("search-input"), event.currentTarget);
      activate();
    },
  },
  kind === "track" ? h("span.result-kind", { aria: { hidden: "true" } }, "♪") : cover(coverUrls, 64),
  h("span.result-text", {}, h("span.result-title", {}, title), h("span.result-sub", {}, subtitle)),
  disabledReason ? h("span.badge.muted", {}, disabledReason) : null,
  meta ? h("span.result-meta", {}, meta) : null);
}

export function toItem(t) {
  return { id: t.id, title: t.title, artistName: t.artistName ?? "", albumTitle: t.albumTitle ?? "", albumId: t.albumId, artistId: t.artistId, durationMs: t.durationMs, coverUrls: t.coverUrls ?? null };
}
