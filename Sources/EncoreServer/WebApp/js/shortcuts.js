// Global keys when focus is not in a text field: Space play/pause, ←/→ seek 5 s, "/" search.
import { isTextField } from "./dom.js";

const SEEK_STEP_S = 5;
// Space activates these natively (or they own their keys), so it must not also toggle playback.
// tabindex="-1" only marks programmatic focus targets (the page's h1, main), which are not controls.
const INTERACTIVE = "button, a[href], [role=button], [role=link], [role=menuitem], [role=option], [role=checkbox], [role=switch], [role=tab], [tabindex]:not([tabindex^='-']), select, input, textarea, summary, audio, video";

export function bindShortcuts(player) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (isTextField(target)) return;
    if (document.querySelector("dialog[open]")) return;
    const onSeek = target?.id === "seek";
    // Checkboxes, menus and the volume slider keep their native arrow keys.
    const ownsKeys = Boolean(target?.closest?.("[role=menu], [role=menuitem]")) || (target?.type === "range" && !onSeek) || target?.type === "checkbox";
    if (event.key === "/") {
      const search = document.getElementById("search-input");
      if (search && !search.closest("[hidden]")) { event.preventDefault(); search.focus(); search.select(); }
    } else if (event.key === " " || event.code === "Space") {
      const playerControl = target?.id === "play-pause" || onSeek;
      if (!playerControl && target?.closest?.(INTERACTIVE)) return;
      event.preventDefault();
      player.toggle();
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      if (ownsKeys) return;
      if (!player.current) return;
      event.preventDefault();
      player.seekBy(event.key === "ArrowLeft" ? -SEEK_STEP_S : SEEK_STEP_S);
    }
  });
}
