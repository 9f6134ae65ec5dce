// #/playlist/{id}: entries with drag-and-drop and Alt+↑/↓ reordering, rename, visibility, delete.
import { api } from "../api.js";
import { h, setTitle, emptyState, errorBox, formatMs, icon, announce, toast, plural } from "../dom.js";
import { currentUser } from "../session.js";
import { describeTrack } from "../catalog.js";
import { confirmAction } from "../confirm.js";
import { navigate } from "../router.js";

export async function render(ctx) {
  const id = ctx.params.id;
  let [playlist, entries] = await Promise.all([api.playlist(id), api.playlistEntries(id)]);
  if (!ctx.isCurrent()) return;
  const mine = playlist.ownerId === currentUser().id;
  setTitle(playlist.title);
  const items = new Map(); // trackId → player item (with artist names, filled in lazily)

  const heading = h("h1", {}, playlist.title);
  const meta = h("p.hero-meta", {});
  const list = h("ol.entry-list", { aria: { label: "Playlist tracks", describedby: mine ? "reorder-hint" : undefined } });
  const status = h("div", {});
  const playButton = h("button.button.primary", { id: "play-playlist", type: "button", onclick: () => playFrom(0) }, icon("play"), "Play");

  const playable = () => entries.filter((e) => e.track.status === "ready");
  function playFrom(position) {
    const ready = playable();
    const start = Math.max(0, ready.findIndex((e) => e.position >= position));
    ctx.player.playQueue(ready.map((e) => items.get(e.track.id) ?? toItem(e.track)), start);
  }

  function renderMeta() {
    const total = entries.reduce((s, e) => s + (e.track.durationMs ?? 0), 0);
    meta.textContent = `${playlist.isPublic ? "Public" : "Private"} playlist · ${plural(entries.length, "track")}${total ? ` · ${formatMs(total)}` : ""}`;
    playButton.disabled = !playable().length;
  }

  function renderEntries(focusPosition) {
    list.replaceChildren();
    entries.forEach((e, i) => { e.position = i; list.append(entryRow(e)); });
    if (!entries.length) list.append(h("li.empty-row", {}, emptyState("This playlist is empty", "Add tracks from an album page or search with the + button.")));
    renderMeta();
    if (focusPosition !== undefined) list.querySelector(`li.entry[data-position="${focusPosition}"]`)?.focus();
  }

  function entryRow(entry) {
    const t = entry.track;
    const item = items.get(t.id);
    const li = h("li.entry", {
      tabindex: "0", draggable: mine, dataset: { position: String(entry.position), trackId: t.id },
      aria: { label: `${t.title}, position ${entry.position + 1} of ${entries.length}` },
    },
    mine ? h("span.grip", { aria: { hidden: "true" } }, icon("grip")) : null,
    h("button.icon-button.play-track", { type: "button", disabled: t.status !== "ready", aria: { label: `Play ${t.title}` }, onclick: () => playFrom(entry.position) }, icon("play")),
    h("div.track-text", {}, h("span.track-title", {}, t.title), h("span.track-sub", {}, item?.artistName ?? "")),
    t.status !== "ready" ? h("span.badge.muted", {}, t.status === "failed" ? "Failed" : "Processing") : null,
    h("span.track-duration", {}, t.durationMs ? formatMs(t.durationMs) : "—"),
    mine ? h("button.icon-button.remove-entry", { type: "button", aria: { label: `Remove ${t.title} from the playlist` }, onclick: () => remove(entry) }, icon("trash")) : null);
    if (mine) bindReorder(li, entry);
    return li;
  }

  async function move(from, to) {
    if (to < 0 || to >= entries.length || from === to) return;
    const previous = entries.slice();
    const [moved] = entries.splice(from, 1);
    entries.splice(to, 0, moved);
    renderEntries(to); // optimistic: the list and focus move at once
    try {
      playlist = await api.movePlaylistEntry(id, from, to);
      announce(`Moved ${moved.track.title} to position ${to + 1}`);
    } catch (err) {
      entries = previous;
      renderEntries(from);
      announce(`Could not move ${moved.track.title}: ${err.message}`);
      toast(err.message, "error");
    }
  }

  async function remove(entry) {
    try {
      playlist = await api.removePlaylistEntry(id, entry.position);
      entries = entries.filter((e) => e !== entry);
      renderEntries(Math.min(entry.position, entries.length - 1));
      announce(`Removed ${entry.track.title}`);
    } catch (err) { toast(err.message, "error"); }
  }

  let dragFrom = null;
  function bindReorder(li, entry) {
    li.addEventListener("keydown", (event) => {
      if (!event.altKey || event.target !== li) return;
      if (event.key === "ArrowUp") { event.preventDefault(); move(entry.position, entry.position - 1); }
      else if (event.key === "ArrowDown") { event.preventDefault(); move(entry.position, entry.position + 1); }
    });
    li.addEventListener("dragstart", (event) => {
      dragFrom = entry.position;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", String(entry.position));
      li.classList.add("dragging");
    });
    li.addEventListener("dragend", () => { li.classList.remove("dragging"); dragFrom = null; clearMarks(); });
    li.addEventListener("dragover", (event) => {
      if (dragFrom === null) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      clearMarks();
      li.classList.add(entry.position > dragFrom ? "drop-after" : "drop-before");
    });
    li.addEventListener("dragleave", () => li.classList.remove("drop-before", "drop-after"));
    li.addEventListener("drop", (event) => {
      event.preventDefault();
      const from = dragFrom ?? Number(event.dataTransfer.getData("text/plain"));
      clearMarks();
      if (Number.isInteger(from)) move(from, entry.position);
    });
  }
  const clearMarks = () => list.querySelectorAll(".drop-before, .drop-after").forEach((el) => el.classList.remove("drop-before", "drop-after"));

  let controls = null;
  if (mine) {
    const titleInput = h("input", { id: "playlist-title-input", type: "text", value: playlist.title, maxlength: "200" });
    const publicBox = h("input", { id: "playlist-public", type: "checkbox", checked: playlist.isPublic });
    const error = h("p.form-error", { role: "alert" });
    const renameForm = h("form.inline-form", {},
      h("div.field.grow", {}, h("label", { for: "playlist-title-input" }, "Title"), titleInput),
      h("button.button", { id: "rename-playlist", type: "submit" }, "Rename"),
      h("label.check", {}, publicBox, "Public: anyone with the link can listen"),
      h("button.button.danger.ghost", { id: "delete-playlist", type: "button", onclick: del }, icon("trash"), "Delete playlist"),
      error);
    renameForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      try {
        playlist = await api.updatePlaylist(id, { title: titleInput.value.trim() });
        heading.textContent = playlist.title;
        setTitle(playlist.title);
        toast("Playlist renamed");
      } catch (err) { error.textContent = err.message; }
    });
    publicBox.addEventListener("change", async () => {
      error.textContent = "";
      try {
        playlist = await api.updatePlaylist(id, { isPublic: publicBox.checked });
        renderMeta();
        announce(playlist.isPublic ? "The playlist is now public" : "The playlist is now private");
      } catch (err) { error.textContent = err.message; publicBox.checked = !publicBox.checked; }
    });
    controls = h("section.card.settings", { aria: { label: "Edit playlist" } }, renameForm);
  }

  async function del() {
    if (!(await confirmAction({ title: "Delete this playlist?", message: `“${playlist.title}” will be gone for good. The tracks themselves stay.` }))) return;
    try {
      await api.deletePlaylist(id);
      toast("Playlist deleted");
      navigate("#/playlists");
    } catch (err) { toast(err.message, "error"); }
  }

  ctx.root.append(h("section.page", { id: "playlist-view" },
    h("div.hero.compact", {}, h("div.hero-text", {}, h("p.eyebrow", {}, "Playlist"), heading, meta, h("div.hero-actions", {}, playButton))),
    controls, status,
    mine ? h("p.hint", { id: "reorder-hint" }, "Drag tracks to reorder, or focus one and press Alt+↑ / Alt+↓.") : null,
    list));
  renderEntries();

  // Artist names are not part of the entries; fetch them once per track, then refresh the rows.
  Promise.all(entries.map((e) => describeTrack(e.track).then((item) => items.set(e.track.id, item)).catch(() => {})))
    .then(() => { if (ctx.isCurrent() && !list.contains(document.activeElement)) renderEntries(); else if (ctx.isCurrent()) list.querySelectorAll("li.entry").forEach((li) => {
      const sub = li.querySelector(".track-sub");
      if (sub) sub.textContent = items.get(li.dataset.trackId)?.artistName ?? "";
    }); })
    .catch((err) => status.replaceChildren(errorBox(err)));
}

function toItem(t) {
  return { id: t.id, title: t.title, artistName: "", albumTitle: "", albumId: t.albumId, artistId: t.artistId, durationMs: t.durationMs };
}
