// #/playlists: your playlists and a form to create one.
import { api } from "../api.js";
import { h, setTitle, emptyState, plural, toast } from "../dom.js";
import { navigate } from "../router.js";

export async function render(ctx) {
  setTitle("Playlists");
  const playlists = await api.playlists();
  if (!ctx.isCurrent()) return;
  const title = h("input", { id: "new-playlist-title", type: "text", maxlength: "200", required: true, placeholder: "Road trip, Focus…" });
  const isPublic = h("input", { id: "new-playlist-public", type: "checkbox" });
  const error = h("p.form-error", { role: "alert" });
  const form = h("form.inline-form", {},
    h("div.field.grow", {}, h("label", { for: "new-playlist-title" }, "New playlist"), title),
    h("label.check", {}, isPublic, "Public"),
    h("button.button.primary", { id: "create-playlist", type: "submit" }, "Create"), error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!title.value.trim()) { error.textContent = "Give the playlist a title."; title.focus(); return; }
    try {
      const created = await api.createPlaylist({ title: title.value.trim(), isPublic: isPublic.checked });
      toast(`Created “${created.title}”`);
      navigate(`#/playlist/${created.id}`);
    } catch (err) { error.textContent = err.message; }
  });
  ctx.root.append(h("section.page", { id: "playlists-view" },
    h("h1", {}, "Playlists"), h("div.card", {}, form),
    playlists.length
      ? h("ul.playlist-list", {}, playlists.map((p) => h("li.playlist", {},
          h("a", { href: `#/playlist/${p.id}`, dataset: { playlistId: p.id } }, p.title),
          h("span.muted", {}, `${plural(p.trackCount, "track")} · ${p.isPublic ? "Public" : "Private"}`))))
      : emptyState("No playlists yet", "Name one above, then add tracks from album pages with the + button.")));
}
