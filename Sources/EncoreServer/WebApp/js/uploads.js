// Upload manager: each file goes queued → uploading (XHR PUT to the pre-signed URL, for real
// progress) → processing (POST /tracks, then poll) → ready | failed. Lives outside the views so
// uploads carry on while the user browses elsewhere in the app.
import { api } from "./api.js";
import { transition, isActive, canCancel, canRetry } from "./upload-state.js";

const MAX_PARALLEL = 2;
const uploads = [];          // every upload of this tab, newest last
const listeners = new Set();
let nextId = 1;

export function subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); }
function changed(upload) { listeners.forEach((fn) => fn(upload)); }
export function uploadsFor(albumId) { return uploads.filter((u) => u.albumId === albumId); }
// Only bytes still to send are lost when the page goes; processing carries on on the server.
export function hasActiveUploads() { return uploads.some((u) => u.state === "queued" || u.state === "uploading"); }

function setState(upload, state) {
  upload.state = transition(upload.state, state);
  changed(upload);
}

export function titleFromFile(name) {
  const base = name.replace(/\.[^.]+$/, "").replace(/[_]+/g, " ").trim();
  return base || name;
}

// `replaceTrackId` turns the upload into an audio replacement of an existing track.
export function addFiles(albumId, files, { replaceTrackId = null } = {}) {
  for (const file of files) {
    uploads.push({ id: nextId++, albumId, file, name: file.name, state: "queued", loaded: 0, total: file.size,
      trackId: replaceTrackId, replace: Boolean(replaceTrackId), reason: null, track: null, xhr: null, pollTimer: null,
      gen: 0, running: false, committing: false });
  }
  changed(null);
  schedule();
}

// Once the PUT is done the track is being created: too late to cancel (the button is hidden).
export function canCancelUpload(upload) { return canCancel(upload.state) && !upload.committing; }
// A cancelled run may still be awaiting a request: retry only once it has stopped.
export function canRetryUpload(upload) { return canRetry(upload.state) && !upload.running; }

export function cancel(upload) {
  if (canCancelUpload(upload)) {
    upload.gen++;
    upload.xhr?.abort();
    upload.xhr = null;
    setState(upload, "cancelled");
    schedule();
  }
}

export function retry(upload) {
  if (!canRetryUpload(upload)) return;
  setState(upload, "queued");
  upload.loaded = 0;
  upload.reason = null;
  schedule();
}

export function dismiss(upload) {
  if (isActive(upload.state)) return;
  uploads.splice(uploads.indexOf(upload), 1);
  changed(null);
}

// Sign-out: stop every request and timer and forget all rows.
export function cancelAll() {
  for (const upload of uploads) {
    upload.gen++;
    upload.xhr?.abort();
    upload.xhr = null;
    clearTimeout(upload.pollTimer);
    upload.pollTimer = null;
  }
  uploads.length = 0;
  changed(null);
}

function schedule() {
  const running = uploads.filter((u) => u.state === "uploading").length;
  const waiting = uploads.filter((u) => u.state === "queued");
  for (const upload of waiting.slice(0, Math.max(0, MAX_PARALLEL - running))) run(upload);
}

async function run(upload) {
  const gen = ++upload.gen;
  upload.running = true;
  upload.committing = false;
  setState(upload, "uploading");
  try {
    // A failed track is fixed by new audio on the same track rather than a duplicate row.
    const size = upload.file.size || undefined;
    const grant = upload.trackId ? await api.updateUrl(upload.trackId, size) : await api.uploadUrl(size);
    if (gen !== upload.gen) return;
    if (grant.maxBytes && upload.file.size > grant.maxBytes) throw new Error(`The file is larger than the ${Math.round(grant.maxBytes / 1048576)} MiB limit.`);
    await put(upload, grant.uploadUrl);
    if (gen !== upload.gen) return;
    upload.committing = true;
    changed(upload);
    const creating = !upload.trackId;
    const track = creating
      ? await api.createTrack({ albumId: upload.albumId, title: titleFromFile(upload.name).slice(0, 200), trackUrl: grant.trackUrl })
      : await api.updateTrack(upload.trackId, { trackUrl: grant.trackUrl });
    if (gen !== upload.gen) {
      // Dropped meanwhile (sign-out): leave no track behind.
      if (creating) api.deleteTrack(track.id).catch(() => {});
      return;
    }
    upload.trackId = track.id;
    upload.track = track;
    setState(upload, "processing");
    schedule();
    poll(upload, 0, gen);
  } catch (err) {
    if (gen !== upload.gen) return; // cancelled meanwhile
    upload.reason = err.message || "The upload failed.";
    setState(upload, "failed");
    schedule();
  } finally {
    // Retry waits for this (canRetryUpload), so no newer run can be going on here.
    upload.running = false;
    upload.committing = false;
    if (uploads.includes(upload)) changed(upload);
  }
}

function put(upload, url) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    upload.xhr = xhr;
    xhr.open("PUT", url);
    xhr.upload.onprogress = (event) => {
      upload.loaded = event.loaded;
      if (event.lengthComputable) upload.total = event.total;
      changed(upload);
    };
    xhr.onload = () => {
      upload.xhr = null;
      if (xhr.status >= 200 && xhr.status < 300) { upload.loaded = upload.total; changed(upload); resolve(); return; }
      let message = `The storage server answered ${xhr.status}.`;
      try { message = JSON.parse(xhr.responseText).error.message || message; } catch { /* not JSON */ }
      reject(new Error(message));
    };
    xhr.onerror = () => { upload.xhr = null; reject(new Error("The upload was interrupted by a network error.")); };
    xhr.onabort = () => { upload.xhr = null; reject(new Error("Cancelled")); };
    xhr.send(upload.file);
  });
}

// About once a second at first, backing off to 5 s for long jobs (big files, busy workers).
function poll(upload, attempt, gen) {
  const delay = Math.min(5000, 1000 * 1.25 ** Math.max(0, attempt - 3));
  upload.pollTimer = setTimeout(async () => {
    if (upload.state !== "processing" || gen !== upload.gen) return;
    try {
      const track = await api.track(upload.trackId);
      if (gen !== upload.gen) return;
      upload.track = track;
      const pending = track.status === "processing" || track.status === "pending" || track.replacement?.status === "processing";
      if (upload.replace && track.replacement?.status === "failed") {
        upload.reason = track.failureReason?.message ?? "Processing failed.";
        setState(upload, "failed");
      } else if (!pending && track.status === "ready") {
        setState(upload, "ready");
      } else if (!pending && track.status === "failed") {
        upload.reason = track.failureReason?.message ?? "Processing failed.";
        setState(upload, "failed");
      } else {
        changed(upload);
        poll(upload, attempt + 1, gen);
      }
    } catch (err) {
      if (gen !== upload.gen) return;
      if (attempt > 30) { upload.reason = err.message; setState(upload, "failed"); return; }
      poll(upload, attempt + 1, gen);
    }
  }, attempt === 0 ? 600 : delay);
}
