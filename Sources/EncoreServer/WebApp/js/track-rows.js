// One track row (album pages, search, playlists): play, duration, add-to-playlist.
import { h, icon, formatMs } from "./dom.js";
import { openPlaylistMenu } from "./playlist-menu.js";

export function playableStatus(track) {
  if (track.playable === false) return "Not playable yet";
  if (track.status && track.status !== "ready") return track.status === "failed" ? "Failed" : "Processing";
  return null;
}

export function trackRow(track, { number, subtitle, onPlay, current } = {}) {
  const unavailable = playableStatus(track);
  const play = h("button.icon-button.play-track", {
    type: "button", disabled: Boolean(unavailable), onclick: onPlay,
    aria: { label: `Play ${track.title}` },
  }, icon("play"));
  const add = h("button.icon-button.add-to-playlist", {
    type: "button", aria: { label: `Add ${track.title} to a playlist`, haspopup: "menu", expanded: "false" },
    onclick: (event) => openPlaylistMenu(event.currentTarget, track),
  }, icon("plus"));
  return h("li.track", { dataset: { trackId: track.id }, aria: { current: current ? "true" : undefined } },
    h("span.track-number", { aria: { hidden: "true" } }, number ?? ""),
    play,
    h("div.track-text", {},
      h("span.track-title", {}, track.title),
      subtitle ? h("span.track-sub", {}, subtitle) : null),
    unavailable ? h("span.badge.muted", {}, unavailable) : null,
    h("span.track-duration", {}, track.durationMs ? formatMs(track.durationMs) : "—"),
    add);
}
