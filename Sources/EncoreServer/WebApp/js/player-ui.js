// The player bar: transport, seek, volume, queue panel and debug panel, bound to a Player.
import { h, icon, formatTime, clear, pickCover } from "./dom.js";

export function mountPlayerBar(section, player) {

  const art = h("div.now-art", { aria: { hidden: "true" } }, icon("music"));
  const title = h("p.now-title", { id: "now-title" }, "Nothing playing");
  const artist = h("p.now-artist", { id: "now-artist" }, "Pick a track to start");
  const playPause = h("button.icon-button.primary", { id: "play-pause", type: "button", aria: { label: "Play", keyshortcuts: "Space" } }, icon("play"));
  const prev = h("button.icon-button", { id: "prev", type: "button", aria: { label: "Previous track" } }, icon("prev"));
  const next = h("button.icon-button", { id: "next", type: "button", aria: { label: "Next track" } }, icon("next"));
  const seek = h("input.seek", { id: "seek", type: "range", min: "0", max: "0", step: "0.1", value: "0", aria: { label: "Seek", keyshortcuts: "ArrowLeft ArrowRight" } });
  const elapsed = h("span.time", { aria: { hidden: "true" } }, "0:00");
  const total = h("span.time", { aria: { hidden: "true" } }, "0:00");
  const volume = h("input.volume", { id: "volume", type: "range", min: "0", max: "1", step: "0.01", value: String(player.volume), aria: { label: "Volume" } });
  const queueToggle = h("button.icon-button", { id: "queue-toggle", type: "button", aria: { label: "Queue", expanded: "false", controls: "queue-panel" } }, icon("queue"));
  const debugToggle = h("button.icon-button", { id: "debug-toggle", type: "button", aria: { label: "Playback details", expanded: "false", controls: "debug" } }, icon("bug"));
  const errorLine = h("p.player-error", { role: "alert" });

  const queueList = h("ol.queue-list", { id: "queue", aria: { label: "Queue" } });
  const queuePanel = h("div.queue-panel", { id: "queue-panel", hidden: true },
    h("h2.panel-title", {}, "Up next"), queueList);

  const debugRendition = h("dd", { id: "debug-rendition" }, "—");
  const debugBuffer = h("dd", { id: "debug-buffer" }, "0.0");
  const debugGain = h("dd", {}, "—");
  const debugDeck = h("dd", {}, "—");
  const debugPanel = h("div.debug-panel", { id: "debug", hidden: true },
    h("h2.panel-title", {}, "Playback details"),
    h("dl", {},
      h("dt", {}, "Rendition"), debugRendition,
      h("dt", {}, "Buffered ahead (s)"), debugBuffer,
      h("dt", {}, "Track gain"), debugGain,
      h("dt", {}, "Active element"), debugDeck));

  section.prepend(
    h("div.player-bar", {},
      h("div.now-playing", {}, art, h("div.now-text", {}, title, artist)),
      h("div.transport", {},
        h("div.buttons", {}, prev, playPause, next),
        h("div.seek-row", {}, elapsed, seek, total)),
      h("div.player-extra", {},
        h("span.volume-icon", { aria: { hidden: "true" } }, icon("volume")), volume, queueToggle, debugToggle)),
    errorLine, queuePanel, debugPanel);

  let dragging = false;
  playPause.addEventListener("click", () => player.toggle());
  prev.addEventListener("click", () => player.previous());
  next.addEventListener("click", () => player.next());
  seek.addEventListener("input", () => { dragging = true; elapsed.textContent = formatTime(Number(seek.value)); });
  seek.addEventListener("change", () => { dragging = false; player.seek(Number(seek.value)); });
  volume.addEventListener("input", () => player.setVolume(volume.value));
  const toggle = (button, panel) => {
    const open = panel.hidden;
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
  };
  queueToggle.addEventListener("click", () => toggle(queueToggle, queuePanel));
  debugToggle.addEventListener("click", () => toggle(debugToggle, debugPanel));

  function renderState() {
    const paused = player.paused;
    playPause.setAttribute("aria-label", paused ? "Play" : "Pause");
    playPause.replaceChildren(icon(paused ? "play" : "pause"));
    section.classList.toggle("is-playing", !paused);
  }

  function renderTime() {
    const s = player.state();
    if (!dragging) {
      seek.max = String(s.duration || 0);
      seek.value = String(s.currentTime);
      elapsed.textContent = formatTime(s.currentTime);
    }
    total.textContent = formatTime(s.duration);
    seek.setAttribute("aria-valuetext", `${formatTime(s.currentTime)} of ${formatTime(s.duration)}`);
    section.style.setProperty("--progress", s.duration ? String(s.currentTime / s.duration) : "0");
    if (!debugPanel.hidden) renderDebug();
  }

  function renderDebug() {
    const deck = player.active;
    debugRendition.textContent = deck.rendition ?? "—";
    debugBuffer.textContent = player.bufferedAhead().toFixed(1);
    debugGain.textContent = deck.grant?.loudness ? `${deck.grant.loudness.trackGainDb.toFixed(1)} dB (${deck.grant.loudness.integratedLufs} LUFS)` : "—";
    debugDeck.textContent = deck.audio.id;
  }

  function renderTrack() {
    const item = player.current;
    title.textContent = item ? item.title : "Nothing playing";
    artist.textContent = item ? [item.artistName, item.albumTitle].filter(Boolean).join(" · ") || " " : "Pick a track to start";
    const url = pickCover(item?.coverUrls, 64);
    art.replaceChildren(url ? h("img", { src: url, alt: "" }) : icon("music"));
    prev.disabled = !item;
    next.disabled = !player.queue.hasNext();
    playPause.disabled = !item;
    errorLine.textContent = player.error ?? (player.loading ? "" : "");
    errorLine.hidden = !player.error;
    section.classList.toggle("is-loading", player.loading);
    renderQueue();
    renderDebug();
    renderState();
    renderTime();
  }

  function renderQueue() {
    clear(queueList);
    if (!player.queue.length) {
      queueList.append(h("li.queue-empty", {}, "The queue is empty. Play an album, a playlist or a search result."));
      return;
    }
    player.queue.items.forEach((item, index) => {
      const current = index === player.queue.index;
      queueList.append(h("li.queue-item", { dataset: { trackId: item.id }, aria: { current: current ? "true" : undefined } },
        h("button.queue-play", { type: "button", onclick: () => player.jump(index), aria: { label: `Play ${item.title}` } },
          h("span.queue-title", {}, item.title), h("span.queue-artist", {}, item.artistName ?? "")),
        current ? h("span.badge", {}, "Now") :
          h("button.icon-button.small", { type: "button", onclick: () => player.removeFromQueue(index), aria: { label: `Remove ${item.title} from the queue` } }, icon("close"))));
    });
  }

  player.addEventListener("change", renderTrack);
  player.addEventListener("state", renderState);
  player.addEventListener("time", renderTime);
  player.addEventListener("preload", renderDebug);
  player.addEventListener("volume", () => { volume.value = String(player.volume); });
  // The buffer figure changes while paused (preload, MSE appends), so refresh it on a timer when open.
  setInterval(() => { if (!debugPanel.hidden) renderDebug(); }, 1000);
  renderTrack();
}
