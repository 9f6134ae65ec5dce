// #/history: your plays, newest first, with "Load more".
import { api } from "../api.js";
import { h, setTitle, emptyState, formatDate, formatMs, icon } from "../dom.js";
import { catalog, describeTrack } from "../catalog.js";

export async function render(ctx) {
  setTitle("History");
  const list = h("ol.history-list", { aria: { label: "Plays" } });
  const more = h("button.button", { type: "button", hidden: true }, "Load more");
  ctx.root.append(h("section.page", { id: "history-view" }, h("h1", {}, "History"),
    h("p.lede", {}, "Plays of 30 seconds or more (or a whole short track) count towards charts."), list, more));
  let offset = 0;

  async function load() {
    more.disabled = true;
    const page = await api.history(offset, 50);
    if (!ctx.isCurrent()) return;
    const rows = await Promise.all(page.items.map(async (play) => {
      const track = await catalog.track(play.trackId).catch(() => null);
      return { play, track, item: track ? await describeTrack(track).catch(() => null) : null };
    }));
    if (!ctx.isCurrent()) return;
    if (!offset && !rows.length) list.replaceWith(emptyState("Nothing played yet", "Play something and it will show up here."));
    for (const { play, track, item } of rows) {
      list.append(h("li.play", { dataset: { trackId: play.trackId } },
        h("button.icon-button.play-track", { type: "button", disabled: track?.status !== "ready", aria: { label: `Play ${track?.title ?? "track"}` },
          onclick: () => item && ctx.player.playQueue([item], 0) }, icon("play")),
        h("div.track-text", {},
          h("span.track-title", {}, track ? h("a", { href: `#/album/${track.albumId}` }, track.title) : "A removed track"),
          h("span.track-sub", {}, [item?.artistName, formatDate(play.playedAt)].filter(Boolean).join(" · "))),
        h("span.badge" + (play.counted ? "" : ".muted"), {}, play.counted ? "Counted" : "Short"),
        h("span.track-duration", { title: "Listened" }, formatMs(play.msPlayed))));
    }
    offset = page.nextOffset;
    more.hidden = offset === null || offset === undefined;
    more.disabled = false;
  }
  more.addEventListener("click", () => load().catch(() => { more.disabled = false; }));
  await load();
}
