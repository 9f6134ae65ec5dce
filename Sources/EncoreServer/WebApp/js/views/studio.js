// #/studio: the signed-in artist's profiles, and a form for a new one.
import { api } from "../api.js";
import { h, setTitle, emptyState, toast } from "../dom.js";
import { currentUser } from "../session.js";
import { navigate } from "../router.js";

export async function render(ctx) {
  setTitle("Studio");
  const artists = await api.artistsOf(currentUser().id);
  if (!ctx.isCurrent()) return;
  const name = h("input", { id: "new-artist-name", type: "text", maxlength: "200", required: true });
  const country = h("input", { id: "new-artist-country", type: "text", maxlength: "2", placeholder: "IS", autocomplete: "country", aria: { describedby: "country-hint" } });
  const error = h("p.form-error", { role: "alert" });
  const form = h("form.inline-form", {},
    h("div.field.grow", {}, h("label", { for: "new-artist-name" }, "Artist or band name"), name),
    h("div.field.narrow", {}, h("label", { for: "new-artist-country" }, "Country"), country, h("p.hint", { id: "country-hint" }, "Two letters, optional")),
    h("button.button.primary", { id: "create-artist", type: "submit" }, "Create artist"), error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!name.value.trim()) { error.textContent = "Enter the artist name."; name.focus(); return; }
    try {
      const body = { name: name.value.trim() };
      if (country.value.trim()) body.country = country.value.trim();
      const artist = await api.createArtist(body);
      toast(`Created ${artist.name}`);
      navigate(`#/studio/artist/${artist.id}`);
    } catch (err) { error.textContent = err.message; }
  });
  ctx.root.append(h("section.page", { id: "studio-view" },
    h("h1", {}, "Studio"),
    h("p.lede", {}, "Publish music: create an artist profile, add an album, then drop your audio files on it."),
    h("section.card", { aria: { label: "New artist" } }, form),
    h("h2", {}, "Your artists"),
    artists.length
      ? h("ul.link-list.big", {}, artists.map((a) => h("li", {}, h("a", { href: `#/studio/artist/${a.id}`, dataset: { artistId: a.id } }, a.name), a.country ? h("span.muted", {}, ` ${a.country}`) : null)))
      : emptyState("No artist profiles yet", "Create one above to start publishing.")));
}
