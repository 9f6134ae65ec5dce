// #/studio/album/{id}: edit the album, its cover, upload tracks (drag and drop, many at once)
// with live progress and status, replace or delete tracks.
import { api } from "../api.js";
import { h, setTitle, emptyState, toast, cover, formatMs, icon, announce, clear } from "../dom.js";
import { navigate } from "../router.js";
import { confirmAction } from "../confirm.js";
import { addFiles, uploadsFor, subscribe, cancel, retry, dismiss, canCancelUpload, canRetryUpload } from "../uploads.js";

const STATUS_TEXT = { queued: "queued", uploading: "uploading", processing: "processing", ready: "ready", failed: "failed", cancelled: "cancelled" };

export async function render(ctx) {
  const albumId = ctx.params.id;
  let [album, tracks] = await Promise.all([api.album(albumId), api.albumTracks(albumId)]);
  const artist = await api.artist(album.artistId).catch(() => null);
  if (!ctx.isCurrent()) return;
  setTitle(`${album.title} · Studio`);
  const timers = new Set();
  const later = (fn, ms) => { const t = setTimeout(() => { timers.delete(t); fn(); }, ms); timers.add(t); };

  // --- album details ---
  const heading = h("h1", {}, album.title);
  const crumb = h("span", { aria: { current: "page" } }, album.title);
  const titleInput = h("input", { id: "album-title-input", type: "text", value: album.title, maxlength: "200", required: true });
  const genreInput = h("input", { id: "album-genre-input", type: "text", value: album.genre ?? "", maxlength: "50" });
  const dateInput = h("input", { id: "album-date-input", type: "date", value: album.releaseDate ?? "" });
  const detailsError = h("p.form-error", { role: "alert" });
  const detailsForm = h("form.inline-form", {},
    h("div.field.grow", {}, h("label", { for: "album-title-input" }, "Title"), titleInput),
    h("div.field", {}, h("label", { for: "album-genre-input" }, "Genre"), genreInput),
    h("div.field", {}, h("label", { for: "album-date-input" }, "Release date"), dateInput),
    h("button.button.primary", { id: "save-album", type: "submit" }, "Save"), detailsError);
  detailsForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    detailsError.textContent = "";
    try {
      // "" clears genre and date on the server.
      album = await api.updateAlbum(albumId, { title: titleInput.value.trim(), genre: genreInput.value.trim(), releaseDate: dateInput.value });
      heading.textContent = album.title;
      crumb.textContent = album.title;
      setTitle(`${album.title} · Studio`);
      toast("Album saved");
    } catch (err) { detailsError.textContent = err.message; }
  });

  // --- cover ---
  const coverBox = h("div.cover-box", {}, cover(album.coverUrls, 300, `Cover of ${album.title}`));
  const coverFile = h("input", { id: "cover-file", type: "file", accept: "image/jpeg,image/png,image/webp" });
  const coverStatus = h("p.hint", { role: "status" }, album.coverUrls ? "" : "No cover yet. Tracks with embedded artwork provide one automatically.");
  coverFile.addEventListener("change", async () => {
    const file = coverFile.files[0];
    if (!file) return;
    coverStatus.textContent = "Uploading cover…";
    coverStatus.classList.remove("error-text");
    const before = JSON.stringify(album.coverUrls ?? null);
    try {
      const grant = await api.coverUploadUrl(albumId);
      if (file.size > grant.maxBytes) throw new Error(`The image is larger than ${Math.round(grant.maxBytes / 1048576)} MiB.`);
      const res = await fetch(grant.uploadUrl, { method: "PUT", body: file });
      if (!res.ok) throw new Error((await res.json().catch(() => null))?.error?.message ?? `Upload failed (${res.status})`);
      await api.attachCover(albumId, grant.coverUrl);
      coverStatus.textContent = "Rendering thumbnails…";
      for (let i = 0; i < 40 && ctx.isCurrent(); i++) {
        await new Promise((r) => setTimeout(r, i < 5 ? 700 : 1500));
        const fresh = await api.album(albumId);
        if (JSON.stringify(fresh.coverUrls ?? null) !== before && fresh.coverUrls) {
          album = fresh;
          coverBox.replaceChildren(cover(album.coverUrls, 300, `Cover of ${album.title}`));
          coverStatus.textContent = "Cover updated.";
          announce("Cover updated");
          return;
        }
      }
      coverStatus.textContent = "The cover is still being processed; reload the page in a moment.";
    } catch (err) {
      coverStatus.textContent = err.message;
      coverStatus.classList.add("error-text");
    } finally { coverFile.value = ""; }
  });

  // --- uploads ---
  const fileInput = h("input.visually-hidden-file", { id: "upload-files", type: "file", multiple: true, accept: "audio/*" });
  const dropZone = h("div.drop-zone", { id: "drop-zone", tabindex: "0", role: "button", aria: { describedby: "drop-hint", label: "Add audio files: drop them here or press Enter to choose" } },
    icon("upload"),
    h("p.drop-title", {}, "Drop audio files here"),
    h("p.hint", { id: "drop-hint" }, "FLAC, WAV, MP3, M4A… Several at once is fine. Each becomes a track named after its file."),
    h("label.button", { for: "upload-files" }, "Choose files"));
  const openPicker = () => fileInput.click();
  dropZone.addEventListener("keydown", (event) => { if ((event.key === "Enter" || event.key === " ") && event.target === dropZone) { event.preventDefault(); openPicker(); } });
  dropZone.addEventListener("click", (event) => { if (event.target === dropZone) openPicker(); });
  for (const type of ["dragenter", "dragover"]) dropZone.addEventListener(type, (event) => { event.preventDefault(); dropZone.classList.add("over"); });
  dropZone.addEventListener("dragleave", (event) => { if (!dropZone.contains(event.relatedTarget)) dropZone.classList.remove("over"); });
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropZone.classList.remove("over");
    const files = [...(event.dataTransfer?.files ?? [])];
    const audio = files.filter((f) => !f.type || f.type.startsWith("audio/") || /\.(flac|wav|aiff?|mp3|m4a|aac|ogg|opus|wma|alac)$/i.test(f.name));
    if (audio.length < files.length) toast(`${files.length - audio.length} file(s) skipped: not audio`, "error");
    if (audio.length) { addFiles(albumId, audio); announce(`${audio.length} file${audio.length === 1 ? "" : "s"} added to the uploads`); }
  });
  fileInput.addEventListener("change", () => { if (fileInput.files.length) addFiles(albumId, [...fileInput.files]); fileInput.value = ""; });

  const uploadList = h("ul.upload-list", { aria: { label: "Uploads" } });
  const uploadRows = new Map();
  function renderUploads() {
    const current = uploadsFor(albumId);
    for (const [upload, row] of uploadRows) if (!current.includes(upload)) { row.li.remove(); uploadRows.delete(upload); }
    for (const upload of current) {
      let row = uploadRows.get(upload);
      if (!row) { row = uploadRow(upload); uploadRows.set(upload, row); uploadList.append(row.li); }
      row.update();
    }
    uploadList.hidden = !current.length;
  }
  function uploadRow(upload) {
    const progress = h("progress", { max: String(upload.total || 1), value: "0", aria: { label: `Upload progress of ${upload.name}` } });
    const status = h("span.upload-status", {});
    const reason = h("span.upload-reason", {});
    const detail = h("span.upload-detail.muted", {});
    const retryBtn = h("button.button.small.upload-retry", { type: "button", onclick: () => retry(upload), aria: { label: `Retry ${upload.name}` } }, "Retry");
    const cancelBtn = h("button.button.small.ghost.upload-cancel", { type: "button", onclick: () => cancel(upload), aria: { label: `Cancel ${upload.name}` } }, "Cancel");
    const dismissBtn = h("button.icon-button.small", { type: "button", onclick: () => dismiss(upload), aria: { label: `Dismiss ${upload.name}` } }, icon("close"));
    const li = h("li.upload", { dataset: { name: upload.name } },
      h("div.upload-head", {}, h("span.upload-name", {}, upload.name), status, detail),
      progress, reason, h("div.upload-actions", {}, retryBtn, cancelBtn, dismissBtn));
    return {
      li,
      update() {
        li.dataset.state = upload.state;
        progress.max = upload.total || 1;
        progress.value = upload.state === "ready" || upload.state === "processing" ? (upload.total || 1) : upload.loaded;
        status.textContent = STATUS_TEXT[upload.state];
        const pct = upload.total ? Math.round((100 * upload.loaded) / upload.total) : 0;
        detail.textContent = upload.state === "uploading" ? `${pct}% of ${mib(upload.total)}`
          : upload.state === "ready" && upload.track ? trackSummary(upload.track) : "";
        reason.textContent = upload.state === "failed" ? upload.reason ?? "" : "";
        reason.hidden = upload.state !== "failed";
        retryBtn.hidden = !canRetryUpload(upload);
        cancelBtn.hidden = !canCancelUpload(upload);
        dismissBtn.hidden = !(upload.state === "ready" || upload.state === "failed" || upload.state === "cancelled");
      },
    };
  }

  // --- tracks ---
  const trackList = h("ol.studio-tracks", { aria: { label: "Tracks" } });
  const tracksHeading = h("h2", { id: "tracks-h", tabindex: "-1" }, "Tracks");
  const replaceInput = h("input.visually-hidden-file", { type: "file", accept: "audio/*", tabindex: "-1", aria: { hidden: "true" } });
  let replaceTarget = null;
  replaceInput.addEventListener("change", () => {
    const file = replaceInput.files[0];
    if (file && replaceTarget) { addFiles(albumId, [file], { replaceTrackId: replaceTarget.id }); toast(`Replacing the audio of “${replaceTarget.title}”`); }
    replaceInput.value = "";
    replaceTarget = null;
  });
  function renderTracks() {
    clear(trackList);
    tracks.sort((a, b) => (a.trackNumber ?? 0) - (b.trackNumber ?? 0));
    if (!tracks.length) { trackList.append(h("li.empty-row", {}, emptyState("No tracks yet", "Upload audio above; tracks appear here as soon as they are created."))); return; }
    for (const t of tracks) {
      const replacing = t.replacement?.status === "processing";
      trackList.append(h("li.studio-track", { dataset: { trackId: t.id, status: t.status } },
        h("span.track-number", {}, t.trackNumber ?? ""),
        h("div.track-text", {},
          h("span.track-title", {}, t.title),
          h("span.track-sub", {}, t.status === "ready" ? trackSummary(t) : t.status === "failed" ? (t.failureReason?.message ?? "Processing failed") : "Processing…")),
        h(`span.badge${t.status === "ready" ? "" : ".muted"}${t.status === "failed" ? ".bad" : ""}`, {}, replacing ? "replacing" : t.status),
        h("button.button.small.replace-audio", { type: "button", aria: { label: `Replace the audio of ${t.title}` }, onclick: () => { replaceTarget = t; replaceInput.click(); } }, "Replace audio"),
        h("button.icon-button.small.delete-track", { type: "button", aria: { label: `Delete ${t.title}` }, onclick: () => removeTrack(t) }, icon("trash"))));
    }
  }
  async function removeTrack(t) {
    if (!(await confirmAction({ title: `Delete “${t.title}”?`, message: "The track and all its audio files will be deleted. Playlists lose it too." }))) return;
    try {
      await api.deleteTrack(t.id);
      const index = tracks.findIndex((x) => x.id === t.id);
      tracks = tracks.filter((x) => x.id !== t.id);
      renderTracks();
      // The focused button is gone: land on the row that took its place, else the list's heading.
      const nextButton = trackList.querySelectorAll("button.delete-track")[index];
      (nextButton ?? tracksHeading).focus();
      announce(`Deleted “${t.title}”`);
      toast(`Deleted “${t.title}”`);
    } catch (err) { toast(err.message, "error"); }
  }
  let refreshing = false;
  async function refreshTracks() {
    if (refreshing || !ctx.isCurrent()) return;
    refreshing = true;
    try { tracks = await api.albumTracks(albumId); if (ctx.isCurrent()) renderTracks(); } catch { /* keep the last list */ }
    refreshing = false;
    if (tracks.some((t) => t.status === "processing" || t.status === "pending" || t.replacement?.status === "processing")) later(refreshTracks, 2500);
  }

  const unsubscribe = subscribe((upload) => {
    renderUploads();
    if (!upload || upload.albumId !== albumId) return;
    if (["processing", "ready", "failed"].includes(upload.state) && upload.lastSeen !== upload.state) refreshTracks();
    if (upload.lastSeen !== upload.state && (upload.state === "ready" || upload.state === "failed")) announce(`${upload.name}: ${upload.state}${upload.reason ? `, ${upload.reason}` : ""}`);
    upload.lastSeen = upload.state;
  });

  const removeAlbum = async () => {
    if (!(await confirmAction({ title: `Delete “${album.title}”?`, message: "All its tracks, audio and cover will be deleted." }))) return;
    try { await api.deleteAlbum(albumId); toast("Album deleted"); navigate(`#/studio/artist/${album.artistId}`); } catch (err) { toast(err.message, "error"); }
  };

  ctx.root.append(h("section.page", { id: "studio-album-view" },
    h("p.breadcrumbs", {}, h("a", { href: "#/studio" }, "Studio"), " / ",
      artist ? h("a", { href: `#/studio/artist/${artist.id}` }, artist.name) : "Artist", " / ", crumb),
    heading,
    h("p.hero-meta", {}, h("a", { href: `#/album/${albumId}` }, "View public page")),
    h("div.studio-grid", {},
      h("section.card", { aria: { labelledby: "details-h" } }, h("h2", { id: "details-h" }, "Details"), detailsForm),
      h("section.card.cover-card", { aria: { labelledby: "cover-h" } }, h("h2", { id: "cover-h" }, "Cover"), coverBox,
        h("div.field", {}, h("label", { for: "cover-file" }, "Upload a JPEG, PNG or WebP image"), coverFile), coverStatus)),
    h("section.card", { aria: { labelledby: "upload-h" } }, h("h2", { id: "upload-h" }, "Upload tracks"), dropZone, fileInput, uploadList),
    h("section", { aria: { labelledby: "tracks-h" } }, tracksHeading, trackList, replaceInput),
    h("div.danger-zone", {}, h("button.button.danger.ghost", { id: "delete-album", type: "button", onclick: removeAlbum }, icon("trash"), "Delete album"))));
  renderUploads();
  renderTracks();
  if (tracks.some((t) => t.status === "processing" || t.replacement?.status === "processing")) later(refreshTracks, 2500);
  return () => { unsubscribe(); timers.forEach(clearTimeout); };
}

function mib(bytes) { return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MiB` : `${Math.max(1, Math.round(bytes / 1024))} KiB`; }

function trackSummary(t) {
  const parts = [];
  if (t.durationMs) parts.push(formatMs(t.durationMs));
  if (t.loudness) parts.push(`${t.loudness.integratedLufs.toFixed(1)} LUFS`);
  if (t.renditions?.length) parts.push(`${t.renditions.map((r) => r.bitrateKbps).join("/")} kbps`);
  return parts.join(" · ");
}
