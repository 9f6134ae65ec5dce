// A small HLS-over-MSE loader for Encore's VOD fMP4 playlists: pick the 160 kbps AAC variant,
// append its init segment, then media segments on demand (about 30 s ahead of the playhead).
// Seeking outside what is buffered refetches from the segment holding the new position.

const LADDER = [32, 48, 64, 96, 128, 160, 192, 256, 320];

function attributes(line) {
  const attrs = {};
  const re = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  let m;
  while ((m = re.exec(line))) attrs[m[1]] = m[2].startsWith('"') ? m[2].slice(1, -1) : m[2];
  return attrs;
}

export function parseMultivariant(text, baseUrl) {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const variants = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith("#EXT-X-STREAM-INF:")) continue;
    const attrs = attributes(lines[i].slice(18));
    let j = i + 1;
    while (j < lines.length && (!lines[j] || lines[j].startsWith("#"))) j++;
    if (j >= lines.length) break;
    variants.push({
      url: new URL(lines[j], baseUrl).href,
      bandwidth: Number(attrs.BANDWIDTH) || 0,
      averageBandwidth: Number(attrs["AVERAGE-BANDWIDTH"]) || Number(attrs.BANDWIDTH) || 0,
      codecs: attrs.CODECS || "mp4a.40.2",
    });
    i = j;
  }
  return variants;
}

export function parseMediaPlaylist(text, baseUrl) {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  let initUrl = null;
  let pending = null;
  let start = 0;
  const segments = [];
  for (const line of lines) {
    if (line.startsWith("#EXT-X-MAP:")) initUrl = new URL(attributes(line.slice(11)).URI, baseUrl).href;
    else if (line.startsWith("#EXTINF:")) pending = parseFloat(line.slice(8));
    else if (line && !line.startsWith("#") && pending !== null) {
      segments.push({ url: new URL(line, baseUrl).href, start, duration: pending });
      start += pending;
      pending = null;
    }
  }
  return { initUrl, segments, duration: start };
}

// The AAC variant whose average bandwidth is nearest the target (160 kbps by default).
export function pickVariant(variants, targetKbps = 160) {
  const aac = variants.filter((v) => /mp4a\.40\.2/.test(v.codecs));
  const pool = aac.length ? aac : variants;
  return pool.reduce((best, v) =>
    !best || Math.abs(v.averageBandwidth - targetKbps * 1000) < Math.abs(best.averageBandwidth - targetKbps * 1000) ? v : best, null);
}

// Measured bandwidth includes container overhead (162 183 b/s for the 160 kbps rung): name the rung.
export function nominalKbps(bitsPerSecond) {
  const kbps = bitsPerSecond / 1000;
  return LADDER.reduce((best, rung) => (Math.abs(rung - kbps) < Math.abs(best - kbps) ? rung : best), LADDER[0]);
}

export function mseSupported(codecs = "mp4a.40.2") {
  return typeof MediaSource !== "undefined" && MediaSource.isTypeSupported(`audio/mp4; codecs="${codecs}"`);
}

async function fetchText(url, signal) {
  const res = await fetch(url, { signal });
  if (!res.ok) throw new Error(`Playlist request failed (${res.status})`);
  return res.text();
}

// Resolves the chosen variant without touching any media element (native HLS uses it too).
export async function resolveVariant(masterUrl, targetKbps = 160) {
  const variants = parseMultivariant(await fetchText(masterUrl), masterUrl);
  const variant = pickVariant(variants, targetKbps);
  if (!variant) throw new Error("The stream has no playable variant");
  return { ...variant, kbps: nominalKbps(variant.averageBandwidth) };
}

export class MseLoader {
  constructor(audio, { ahead = 30, onError } = {}) {
    this.audio = audio;
    this.ahead = ahead;
    this.onError = onError ?? (() => {});
    this.destroyed = false;
    this.nextIndex = 0;
    this.pumping = false;
    this.controller = null;
    this.objectUrl = null;
    this.onTick = () => this.pump();
    this.onSeeking = () => this.seekTo(this.audio.currentTime);
  }

  async open(masterUrl) {
    const variant = await resolveVariant(masterUrl);
    this.variant = variant;
    this.playlist = parseMediaPlaylist(await fetchText(variant.url), variant.url);
    if (!this.playlist.initUrl || !this.playlist.segments.length) throw new Error("The media playlist is empty");
    if (this.destroyed) return variant;

    this.mediaSource = new MediaSource();
    const opened = new Promise((resolve) => this.mediaSource.addEventListener("sourceopen", resolve, { once: true }));
    this.objectUrl = URL.createObjectURL(this.mediaSource);
    this.audio.src = this.objectUrl;
    await opened;
    if (this.destroyed) return variant;
    this.mediaSource.duration = this.playlist.duration;
    this.buffer = this.mediaSource.addSourceBuffer(`audio/mp4; codecs="${variant.codecs}"`);
    await this.append(await this.fetchBytes(this.playlist.initUrl));
    for (const type of ["timeupdate", "playing", "progress"]) this.audio.addEventListener(type, this.onTick);
    this.audio.addEventListener("seeking", this.onSeeking);
    this.pump();
    return variant;
  }

  // Seconds of media buffered ahead of the playhead (what the debug panel shows).
  bufferedAhead() {
    const t = this.audio.currentTime;
    const ranges = this.audio.buffered;
    for (let i = 0; i < ranges.length; i++) {
      if (ranges.start(i) <= t + 0.25 && t <= ranges.end(i)) return ranges.end(i) - t;
    }
    return 0;
  }

  segmentAt(time) {
    const segments = this.playlist.segments;
    for (let i = segments.length - 1; i >= 0; i--) if (segments[i].start <= time + 0.001) return i;
    return 0;
  }

  seekTo(time) {
    if (!this.playlist || this.destroyed) return;
    const ahead = this.bufferedAhead();
    // Continue after what is already there; otherwise restart from the segment holding `time`.
    const target = ahead > 0 ? this.segmentAt(time + ahead - 0.05) + 1 : this.segmentAt(time);
    if (target !== this.nextIndex) {
      this.nextIndex = target;
      this.controller?.abort();
    }
    this.pump();
  }

  async pump() {
    if (this.pumping || this.destroyed || !this.buffer) return;
    this.pumping = true;
    try {
      for (;;) {
        if (this.destroyed) return;
        const segments = this.playlist.segments;
        if (this.nextIndex >= segments.length) { this.finish(); return; }
        if (this.bufferedAhead() > this.ahead && this.nextIndex > 0) return;
        const index = this.nextIndex;
        let bytes;
        try {
          bytes = await this.fetchBytes(segments[index].url, true);
        } catch (err) {
          if (err.name === "AbortError") continue; // a seek moved nextIndex; go again from there
          throw err;
        }
        if (this.destroyed) return;
        if (index !== this.nextIndex) continue; // superseded by a seek while in flight
        await this.appendWithRoom(bytes);
        if (index === this.nextIndex) this.nextIndex = index + 1;
      }
    } catch (err) {
      if (!this.destroyed) this.onError(err);
    } finally {
      this.pumping = false;
    }
  }

  finish() {
    if (this.mediaSource?.readyState === "open" && !this.buffer.updating) {
      try { this.mediaSource.endOfStream(); } catch { /* already ended */ }
    }
  }

  async fetchBytes(url, abortable = false, attempt = 0) {
    this.controller = abortable ? new AbortController() : null;
    try {
      const res = await fetch(url, { signal: this.controller?.signal });
      if (!res.ok) throw new Error(`Segment request failed (${res.status})`);
      return await res.arrayBuffer();
    } catch (err) {
      if (err.name === "AbortError" || attempt >= 3 || this.destroyed) throw err;
      await new Promise((r) => setTimeout(r, 400 * 2 ** attempt));
      return this.fetchBytes(url, abortable, attempt + 1);
    }
  }

  append(bytes) {
    return new Promise((resolve, reject) => {
      const done = () => { cleanup(); resolve(); };
      const fail = () => { cleanup(); reject(new Error("The browser could not decode a segment")); };
      const cleanup = () => { this.buffer.removeEventListener("updateend", done); this.buffer.removeEventListener("error", fail); };
      this.buffer.addEventListener("updateend", done);
      this.buffer.addEventListener("error", fail);
      try { this.buffer.appendBuffer(bytes); } catch (err) { cleanup(); reject(err); }
    });
  }

  // When the buffer is full, drop what is well behind the playhead and try once more.
  async appendWithRoom(bytes) {
    try {
      await this.append(bytes);
    } catch (err) {
      if (err.name !== "QuotaExceededError") throw err;
      const behind = this.audio.currentTime - 10;
      if (behind > 0) await new Promise((resolve) => {
        this.buffer.addEventListener("updateend", resolve, { once: true });
        this.buffer.remove(0, behind);
      });
      await this.append(bytes);
    }
  }

  destroy() {
    this.destroyed = true;
    this.controller?.abort();
    for (const type of ["timeupdate", "playing", "progress"]) this.audio.removeEventListener(type, this.onTick);
    this.audio.removeEventListener("seeking", this.onSeeking);
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = null;
  }
}
