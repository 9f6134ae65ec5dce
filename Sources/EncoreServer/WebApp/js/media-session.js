// Lock-screen / hardware-key integration through the Media Session API, where available.


export function bindMediaSession(player) {
  const ms = navigator.mediaSession;
  if (!ms) return;
  const handlers = {
    play: () => player.play(),
    pause: () => player.pause(),
    previoustrack: () => player.previous(),
    nexttrack: () => player.next(),
    seekto: (details) => player.seek(details.seekTime),
    seekbackward: (details) => player.seekBy(-(details.seekOffset || 10)),
    seekforward: (details) => player.seekBy(details.seekOffset || 10),
  };
  for (const [action, fn] of Object.entries(handlers)) {
    try { ms.setActionHandler(action, fn); } catch { /* action unsupported here */ }
  }
  player.addEventListener("change", () => {
    const item = player.current;
    if (!item || typeof MediaMetadata === "undefined") { ms.metadata = null; return; }
    const artwork = Object.entries(item.coverUrls ?? {}).map(([size, src]) => ({ src, sizes: `${size}x${size}`, type: "image/jpeg" }));
    ms.metadata = new MediaMetadata({ title: item.title, artist: item.artistName ?? "", album: item.albumTitle ?? "", artwork });
  });
  player.addEventListener("state", () => { ms.playbackState = player.current ? (player.paused ? "paused" : "playing") : "none"; });
  player.addEventListener("time", () => {
    const s = player.state();
    if (!ms.setPositionState || !s.duration) return;
    try { ms.setPositionState({ duration: s.duration, position: Math.min(s.currentTime, s.duration), playbackRate: 1 }); } catch { /* transient */ }
  });
}
