// Global keys when focus is not in a text field: Space play/pause, ←/→ seek 5 s, "/" search.
import { isTextField } from "./dom.js";

const SEEK_STEP_S = 5;

export function bindShortcuts(player) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (isTextField(target)) return;
    if (document.querySelector("dialog[open]")) return;
    const onSeek = target?.id === "seek";
    // Space means play/pause even on a focused button (Enter still activates buttons), as in
    // other players; checkboxes, menus and the volume slider keep their native keys.
    const ownsKeys = Boolean(target?.closest?.("[role=menu], [role=menuitem]")) || (target?.type === "range" && !onSeek) || target?.type === "checkbox";
    if (event.key === "/") {
      const search = document.getElementById("search-input");
      if (search && !search.closest("[hidden]")) { event.preventDefault(); search.focus(); search.select(); }
    } else if (event.key === " " || event.code === "Space") {
      if (ownsKeys) return;
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
