// #/studio/artist/{id}: the artist's albums and a form for a new album.
import { api } from "../api.js";
import { h, setTitle, emptyState, toast, cover } from "../dom.js";
import { navigate } from "../router.js";
import { confirmAction } from "../confirm.js";

export async function render(ctx) {
  const [artist, albums] = await Promise.all([api.artist(ctx.params.id), api.artistAlbums(ctx.params.id)]);
  if (!ctx.isCurrent()) return;
  setTitle(`${artist.name} · Studio`);
  const title = h("input", { id: "new-album-title", type: "text", maxlength: "200", required: true });
  const genre = h("input", { id: "new-album-genre", type: "text", maxlength: "50" });
  const date = h("input", { id: "new-album-date", type: "date" });
  const error = h("p.form-error", { role: "alert" });
  const form = h("form.inline-form", {},
    h("div.field.grow", {}, h("label", { for: "new-album-title" }, "Album title"), title),
    h("div.field", {}, h("label", { for: "new-album-genre" }, "Genre"), genre),
    h("div.field", {}, h("label", { for: "new-album-date" }, "Release date"), date),
    h("button.button.primary", { id: "create-album", type: "submit" }, "Create album"), error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!title.value.trim()) { error.textContent = "Enter the album title."; title.focus(); return; }
    try {
      const body = { artistId: artist.id, title: title.value.trim() };
      if (genre.value.trim()) body.genre = genre.value.trim();
      if (date.value) body.releaseDate = date.value;
      const album = await api.createAlbum(body);
      toast(`Created “${album.title}”`);
      navigate(`#/studio/album/${album.id}`);
    } catch (err) { error.textContent = err.message; }
  });
  // The profile: name, bio and country, saved with PATCH (an empty country clears it).
  const nameInput = h("input", { id: "artist-name-input", type: "text", maxlength: "200", required: true, value: artist.name });
  const bioInput = h("textarea", { id: "artist-bio-input", rows: "3", maxlength: "5000" });
  bioInput.value = artist.bio ?? "";
  const countryInput = h("input", { id: "artist-country-input", type: "text", maxlength: "2", value: artist.country ?? "", placeholder: "IS" });
  const profileError = h("p.form-error", { role: "alert" });
  const heading = h("h1", {}, artist.name);
  const profile = h("form.stack-form", {},
    h("div.field", {}, h("label", { for: "artist-name-input" }, "Name"), nameInput),
    h("div.field", {}, h("label", { for: "artist-bio-input" }, "Bio"), bioInput),
    h("div.field", {}, h("label", { for: "artist-country-input" }, "Country (two letters)"), countryInput),
    h("button.button", { id: "save-artist", type: "submit" }, "Save profile"), profileError);
  profile.addEventListener("submit", async (event) => {
    event.preventDefault();
    profileError.textContent = "";
    if (!nameInput.value.trim()) { profileError.textContent = "Enter the artist's name."; nameInput.focus(); return; }
    try {
      const saved = await api.updateArtist(artist.id, {
        name: nameInput.value.trim(), bio: bioInput.value, country: countryInput.value.trim().toUpperCase(),
      });
      Object.assign(artist, saved);
      heading.textContent = saved.name;
      setTitle(`${saved.name} · Studio`);
      toast("Profile saved");
    } catch (err) { profileError.textContent = err.message; }
  });
  const remove = async () => {
    if (!(await confirmAction({ title: `Delete ${artist.name}?`, message: "Every album and track of this artist, and all their audio, will be deleted." }))) return;
    try { await api.deleteArtist(artist.id); toast("Artist deleted"); navigate("#/studio"); } catch (err) { toast(err.message, "error"); }
  };
  ctx.root.append(h("section.page", { id: "studio-artist-view" },
    h("p.breadcrumbs", {}, h("a", { href: "#/studio" }, "Studio"), " / ", artist.name),
    heading,
    h("p.hero-meta", {}, h("a", { href: `#/artist/${artist.id}` }, "View public page")),
    h("section.card", { aria: { label: "Profile" } }, h("h2", {}, "Profile"), profile),
    h("section.card", { aria: { label: "New album" } }, form),
    h("h2", {}, "Albums"),
    albums.length
      ? h("ul.album-grid", {}, albums.map((a) => h("li", {}, h("a.album-card", { href: `#/studio/album/${a.id}`, dataset: { albumId: a.id } },
          cover(a.coverUrls, 300, ""), h("span.album-title", {}, a.title), h("span.album-meta", {}, [a.releaseDate, a.genre].filter(Boolean).join(" · ") || " ")))))
      : emptyState("No albums yet", "Create the first one above."),
    h("div.danger-zone", {}, h("button.button.danger.ghost", { type: "button", id: "delete-artist", onclick: remove }, "Delete artist"))));
}
