// Entry point: builds the shell (header, player), guards routes and renders the current view.
import { route, parseHash, navigate } from "./router.js";
import { getSession, clearSession, currentUser, isArtist, onSessionChange } from "./session.js";
import { Player } from "./player.js";
import { mountPlayerBar } from "./player-ui.js";
import { bindMediaSession } from "./media-session.js";
import { bindSearchBox } from "./search-box.js";
import { bindShortcuts } from "./shortcuts.js";
import { h, clear, errorBox, setTitle, toast } from "./dom.js";
import { hasActiveUploads, cancelAll } from "./uploads.js";
import { confirmAction } from "./confirm.js";

import * as auth from "./views/auth.js";
import * as home from "./views/home.js";
import * as search from "./views/search.js";
import * as album from "./views/album.js";
import * as artist from "./views/artist.js";
import * as playlists from "./views/playlists.js";
import * as playlist from "./views/playlist.js";
import * as historyView from "./views/history.js";
import * as studio from "./views/studio.js";
import * as studioArtist from "./views/studio-artist.js";
import * as studioAlbum from "./views/studio-album.js";

route("login", "/login");
route("signup", "/signup");
route("home", "/");
route("search", "/search");
route("artist", "/artist/:id");
route("album", "/album/:id");
route("playlists", "/playlists");
route("playlist", "/playlist/:id");
route("history", "/history");
route("studio", "/studio");
route("studio-artist", "/studio/artist/:id");
route("studio-album", "/studio/album/:id");

const VIEWS = {
  login: auth, signup: auth, home, search, artist, album, playlists, playlist,
  history: historyView, studio, "studio-artist": studioArtist, "studio-album": studioAlbum,
};
const PUBLIC = new Set(["login", "signup"]);
const STUDIO = new Set(["studio", "studio-artist", "studio-album"]);
const NAV_SECTION = { home: "home", search: "home", artist: "home", album: "home", playlists: "playlists", playlist: "playlists", history: "history", studio: "studio", "studio-artist": "studio", "studio-album": "studio" };

const main = document.getElementById("main");
const header = document.getElementById("app-header");
const playerSection = document.getElementById("player");

// The two decks live in the player landmark; the bar's controls are put in front of them.
const audioA = h("audio", { id: "audio-a", preload: "auto" });
const audioB = h("audio", { id: "audio-b", preload: "auto" });
playerSection.append(audioA, audioB);
const player = new Player(audioA, audioB);
const savedVolume = Number(localStorage.getItem("encore.volume"));
if (localStorage.getItem("encore.volume") !== null && Number.isFinite(savedVolume)) player.setVolume(savedVolume);
player.addEventListener("volume", () => localStorage.setItem("encore.volume", String(player.volume)));
mountPlayerBar(playerSection, player);

let cleanup = null;
let renderCount = 0;

async function render() {
  const r = parseHash();
  const session = getSession();
  if (!r.name) return navigate("#/login", { replace: true });
  if (!session && !PUBLIC.has(r.name)) return navigate("#/login", { replace: true });
  if (session && PUBLIC.has(r.name)) return navigate("#/", { replace: true });
  if (STUDIO.has(r.name) && !isArtist()) return navigate("#/", { replace: true });

  // The search view updates itself while typing; re-rendering it would drop the results.
  if (r.name === "search" && currentViewName === "search" && search.update) { search.update(r.query.q ?? ""); return; }

  renderShell(session, r);
  cleanup?.();
  cleanup = null;
  const token = ++renderCount;
  // Typing in the header search box navigates too: only that keeps its focus.
  const keepFocus = document.activeElement?.id === "search-input";
  clear(main);
  currentViewName = r.name;
  const ctx = { root: main, params: r.params, query: r.query, name: r.name, player, isCurrent: () => token === renderCount };
  try {
    cleanup = (await VIEWS[r.name].render(ctx)) ?? null;
  } catch (err) {
    if (token !== renderCount) return;
    console.warn(err);
    setTitle("Something went wrong");
    clear(main).append(h("h1", {}, "Something went wrong"), errorBox(err), h("p", {}, h("a", { href: "#/" }, "Back to Home")));
  }
  if (token === renderCount && !keepFocus && !main.contains(document.activeElement)) {
    // Move focus to the new page's heading so keyboard and screen-reader users land on it.
    const heading = main.querySelector("h1");
    if (heading && r.name !== "login" && r.name !== "signup") { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  }
}
let currentViewName = null;

function renderShell(session, r) {
  const signedIn = Boolean(session);
  header.hidden = !signedIn;
  playerSection.hidden = !signedIn;
  document.body.classList.toggle("signed-in", signedIn);
  if (!signedIn) return;
  const user = currentUser();
  document.getElementById("whoami").textContent = `${user.displayName}${user.role !== "listener" ? ` (${user.role})` : ""}`;
  document.getElementById("nav-studio").hidden = !isArtist();
  const section = NAV_SECTION[r.name];
  for (const link of header.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

document.getElementById("sign-out").addEventListener("click", async () => {
  if (hasActiveUploads() && !(await confirmAction({ title: "Sign out?", message: "Uploads in progress will be cancelled.", yes: "Sign out" }))) return;
  if (getSession()) signOut();
});

function signOut() {
  cancelAll();
  player.flush();
  player.queue.clear();
  player.active.unload();
  player.idle.unload();
  player.error = null;
  player.loading = false;
  player.emit("change");
  const searchInput = document.getElementById("search-input");
  searchInput.value = "";
  searchInput.removeAttribute("aria-activedescendant");
  clearSession();
  navigate("#/login");
}

window.addEventListener("encore:unauthorized", () => { if (getSession()) signOut(); });
onSessionChange(() => { currentViewName = null; });
const safeRender = () => render().catch((err) => console.warn("render failed", err));
window.addEventListener("hashchange", safeRender);
window.addEventListener("pagehide", () => player.flush());
window.addEventListener("beforeunload", (event) => { if (hasActiveUploads()) event.preventDefault(); });

bindSearchBox(document.getElementById("search-input"), player);
bindShortcuts(player);
bindMediaSession(player);
player.addEventListener("skipped", (event) => toast(`Skipped “${event.detail.item.title}”: ${event.detail.message}`, "error"));

// Documented test hook: read-only view of the player plus seek.
window.encorePlayer = {
  state: () => player.state(),
  transitions: player.transitions,
  seek: (seconds) => player.seek(seconds),
};

safeRender();
