// "Add to playlist" popup (#playlist-menu) anchored to the button that opened it.
import { api } from "./api.js";
import { h, toast, clear } from "./dom.js";

let menu = null;
let opener = null;

function close({ restoreFocus = true } = {}) {
  if (!menu) return;
  const closing = menu;
  menu = null;
  closing.remove();
  document.removeEventListener("pointerdown", onOutside, true);
  document.removeEventListener("keydown", onKey, true);
  window.removeEventListener("hashchange", onHashChange);
  if (restoreFocus && opener?.isConnected) opener.focus();
  opener?.setAttribute("aria-expanded", "false");
  opener = null;
}

function onOutside(event) { if (menu && !menu.contains(event.target) && event.target !== opener) close(); }

function onHashChange() { close({ restoreFocus: false }); }

// Tabbing (or any focus move) out of the menu closes it; the opener's own click toggles it.
function onFocusOut(event) {
  const to = event.relatedTarget;
  if (menu && to && !menu.contains(to) && to !== opener) close({ restoreFocus: false });
}

function onKey(event) {
  if (!menu || !menu.contains(event.target)) return;
  if (event.key === "Escape") { event.preventDefault(); close(); return; }
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    const buttons = [...menu.querySelectorAll("button")];
    const i = buttons.indexOf(document.activeElement);
    const next = event.key === "ArrowDown" ? (i + 1) % buttons.length : (i - 1 + buttons.length) % buttons.length;
    buttons[next]?.focus();
    event.preventDefault();
  }
}

export async function openPlaylistMenu(button, track) {
  if (menu) { const same = opener === button; close(); if (same) return; }
  opener = button;
  button.setAttribute("aria-expanded", "true");
  menu = h("div.popup-menu", { id: "playlist-menu", role: "menu", aria: { label: `Add ${track.title} to a playlist` } },
    h("p.menu-status", {}, "Loading playlists…"));
  menu.addEventListener("focusout", onFocusOut);
  document.body.append(menu);
  const rect = button.getBoundingClientRect();
  const width = Math.min(280, window.innerWidth - 16);
  menu.style.setProperty("left", `${Math.max(8, Math.min(rect.right - width, window.innerWidth - width - 8))}px`);
  menu.style.setProperty("top", `${rect.bottom + window.scrollY + 4}px`);
  menu.style.setProperty("width", `${width}px`);
  document.addEventListener("pointerdown", onOutside, true);
  document.addEventListener("keydown", onKey, true);
  window.addEventListener("hashchange", onHashChange);
  const current = menu;
  try {
    const playlists = await api.playlists();
    if (current !== menu) return;
    clear(menu);
    if (!playlists.length) {
      menu.append(h("p.menu-status", {}, "You have no playlists yet."), h("a.menu-link", { href: "#/playlists", onclick: () => close({ restoreFocus: false }) }, "Create one on the Playlists page"));
      return;
    }
    for (const playlist of playlists) {
      menu.append(h("button.menu-item", {
        type: "button", role: "menuitem", dataset: { playlistId: playlist.id },
        onclick: async () => {
          close();
          try {
            await api.addToPlaylist(playlist.id, track.id);
            toast(`Added “${track.title}” to ${playlist.title}`);
          } catch (err) { toast(err.message, "error"); }
        },
      }, playlist.title));
    }
    menu.querySelector("button")?.focus();
  } catch (err) {
    if (current !== menu) return;
    clear(menu).append(h("p.menu-status.error-text", { role: "alert" }, err.message));
  }
}
