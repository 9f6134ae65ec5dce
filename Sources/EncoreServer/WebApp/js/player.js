// Playback engine: two audio elements ("decks") so the next track is loaded into the idle one
// and starts the moment the current one ends; native HLS, else HLS over MSE, else a progressive
// file; loudness gain through Web Audio; play reports to the server. No DOM beyond the decks.
import { api } from "./api.js";
import { Queue } from "./queue.js";
import { trackGain, sliderToVolume } from "./gain.js";
import { MseLoader, mseSupported, resolveVariant } from "./hls-mse.js";

const PRELOAD_REMAINING_S = 30; // start loading the next track this long before the end…
const PRELOAD_AFTER_S = 10;     // …or once this much of the current one has played
const RESTART_THRESHOLD_S = 3;  // "previous" restarts the track when past this point
const GRANT_MARGIN_MS = 60_000; // signed stream URLs are renewed this long before they expire
const PRELOAD_RETRY_MS = 30_000; // a next track that failed to preload is not retried sooner
const EXPIRED_MESSAGE = "The stream link expired; reconnecting…";

class StaleLoad extends Error {}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; a LAN deployment over plain http still deserves play ids.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function newListen() { return { playId: uuid(), playedAt: null, ms: 0, last: null, reported: false }; }

function expiresSoon(grant) {
  const at = Date.parse(grant?.expiresAt ?? "");
  return Number.isFinite(at) && at - Date.now() < GRANT_MARGIN_MS;
}

function mediaErrorMessage(error) {
  switch (error?.code) {
    case 1: return "Playback was aborted.";
    case 2: return "A network error stopped playback.";
    case 3: return "The audio could not be decoded.";
    case 4: return "This browser cannot play the audio format offered.";
    default: return "Playback failed.";
  }
}

class Deck {
  constructor(audio, player) {
    this.audio = audio;
    this.player = player;
    this.item = null;
    this.grant = null;
    this.loader = null;
    this.rendition = null;
    this.gain = 1;
    this.gainNode = null;
    this.loaded = false;
    this.loadToken = 0;
    this.listen = null;
    this.triedFallback = false;
    this.refreshedAt = 0;
  }

  async load(item) {
    this.unload();
    const token = ++this.loadToken;
    this.item = item;
    const grant = await api.stream(item.id);
    if (token !== this.loadToken) throw new StaleLoad();
    this.grant = grant;
    this.gain = trackGain(grant.loudness);
    this.player.applyGain(this);
    this.audio.preload = "auto";
    // Debugging aid: localStorage "encore.playback" = "mse" | "progressive" skips the better paths.
    const forced = localStorage.getItem("encore.playback");
    if (forced === "progressive") {
      this.useProgressive();
    } else if (forced !== "mse" && this.audio.canPlayType("application/vnd.apple.mpegurl")) {
      const variant = await resolveVariant(grant.hls);
      if (token !== this.loadToken) throw new StaleLoad();
      this.audio.src = variant.url;
      this.rendition = `HLS aac ${variant.kbps} kbps`;
    } else if (mseSupported()) {
      try {
        this.loader = new MseLoader(this.audio, { onError: (err) => { if (token === this.loadToken) this.player.deckError(this, err.message); } });
        const variant = await this.loader.open(grant.hls);
        if (token !== this.loadToken) throw new StaleLoad();
        this.rendition = `MSE aac ${variant.kbps} kbps`;
      } catch (err) {
        // A newer load owns the deck now: its source must not be replaced.
        if (err instanceof StaleLoad || token !== this.loadToken) throw new StaleLoad();
        this.useProgressive();
      }
    } else {
      this.useProgressive();
    }
    if (token !== this.loadToken) throw new StaleLoad();
    this.listen = newListen();
    this.loaded = true;
  }

  // The signed URLs expired (or are about to): fetch a new grant and continue the same listen at `at`.
  async refresh(at) {
    const listen = this.listen;
    await this.load(this.item);
    if (listen) { listen.last = null; this.listen = listen; }
    this.refreshedAt = Date.now();
    if (at > 0) this.audio.currentTime = at;
  }

  // Progressive fallback: the 160 kbps AAC file, else the closest file this browser can play.
  useProgressive() {
    this.loader?.destroy();
    this.loader = null;
    const files = (this.grant?.progressive ?? []).filter((f) => f.bitrateKbps && this.audio.canPlayType(f.contentType));
    const order = ["m4a", "mp3", "ogg"];
    files.sort((a, b) => (order.indexOf(a.format) - order.indexOf(b.format)) || (Math.abs(a.bitrateKbps - 160) - Math.abs(b.bitrateKbps - 160)));
    const file = files[0] ?? this.grant?.progressive?.[0];
    if (!file) throw new Error("No playable audio for this track.");
    this.audio.src = file.url;
    this.rendition = `progressive ${file.format} ${file.bitrateKbps ?? "lossless"}${file.bitrateKbps ? " kbps" : ""}`;
  }

  bufferedAhead() {
    if (this.loader) return this.loader.bufferedAhead();
    const t = this.audio.currentTime;
    const r = this.audio.buffered;
    for (let i = 0; i < r.length; i++) if (r.start(i) <= t + 0.25 && t <= r.end(i)) return r.end(i) - t;
    return 0;
  }

  unload() {
    this.loadToken++;
    this.loader?.destroy();
    this.loader = null;
    this.audio.pause();
    this.audio.removeAttribute("src");
    this.audio.load();
    this.item = null;
    this.grant = null;
    this.rendition = null;
    this.loaded = false;
    this.listen = null;
    this.triedFallback = false;
    this.refreshedAt = 0;
  }
}

export class Player extends EventTarget {
  constructor(audioA, audioB) {
    super();
    this.decks = [new Deck(audioA, this), new Deck(audioB, this)];
    this.activeIndex = 0;
    this.queue = new Queue();
    this.error = null;
    this.volume = 1;
    this.context = null;
    this.volumeNode = null;
    this.transitions = [];
    this.pendingTransition = null;
    this.loading = false;
    this.refreshing = null;          // the deck getting new signed URLs (refreshDeck)
    this.preloadFailures = new Map(); // track id → performance.now() of its failed preload
    for (const deck of this.decks) this.bindDeck(deck);
    this.markActive();
  }

  get active() { return this.decks[this.activeIndex]; }
  get idle() { return this.decks[1 - this.activeIndex]; }
  get current() { return this.queue.current(); }
  get paused() { return this.active.audio.paused; }

  emit(type) { this.dispatchEvent(new Event(type)); }

  bindDeck(deck) {
    const a = deck.audio;
    const isActive = () => deck === this.active;
    a.addEventListener("timeupdate", () => {
      if (!isActive()) return;
      this.account(deck);
      this.maybePreload();
      this.emit("time");
    });
    a.addEventListener("seeking", () => { if (deck.listen) deck.listen.last = null; });
    a.addEventListener("playing", () => {
      if (!isActive()) return;
      if (deck.listen && !deck.listen.playedAt) deck.listen.playedAt = new Date().toISOString();
      // Listening starts counting where playback (re)starts, so the first step from 0 is not lost.
      if (deck.listen && deck.listen.last === null) deck.listen.last = a.currentTime;
      if (this.pendingTransition && this.pendingTransition.to === deck.item?.id) {
        this.pendingTransition.playingAt = performance.now();
        this.transitions.push(this.pendingTransition);
        this.pendingTransition = null;
      }
      this.emit("state");
    });
    for (const type of ["play", "pause", "waiting", "durationchange", "loadedmetadata"]) {
      a.addEventListener(type, () => { if (isActive()) this.emit(type === "durationchange" || type === "loadedmetadata" ? "time" : "state"); });
    }
    a.addEventListener("ended", () => { if (isActive()) this.onEnded(deck); });
    a.addEventListener("error", () => {
      if (!a.getAttribute("src")) return; // unload() empties src on purpose
      this.deckError(deck, mediaErrorMessage(a.error));
    });
  }

  // Listening time: sum of small forward steps of currentTime, so seeks and stalls don't count.
  account(deck) {
    const l = deck.listen;
    if (!l) return;
    const t = deck.audio.currentTime;
    // The last timeupdate of a track comes with paused already true (it ended): that step still counts.
    if (l.last !== null && (!deck.audio.paused || deck.audio.ended)) {
      const step = t - l.last;
      if (step > 0 && step < 2) l.ms += step * 1000;
    }
    l.last = t;
  }

  report(deck) {
    const l = deck.listen;
    if (!l || l.reported || !deck.item) return;
    this.account(deck);
    const msPlayed = Math.round(l.ms);
    if (msPlayed < 1) return;
    l.reported = true;
    api.reportPlay({ playId: l.playId, trackId: deck.item.id, msPlayed, playedAt: l.playedAt ?? new Date().toISOString() })
      .then(() => window.dispatchEvent(new CustomEvent("encore:played")))
      .catch(() => { l.reported = false; });
  }

  deckError(deck, message) {
    if (deck !== this.active) { // a failed preload is retried later (not before PRELOAD_RETRY_MS)
      if (deck.item) this.preloadFailures.set(deck.item.id, performance.now());
      deck.unload();
      return;
    }
    if (this.refreshing === deck) return;
    // Signed URLs expire: first try the same track with a new grant (the same listen continues),
    // at most once a minute so a track that really cannot play ends up with the fallback below.
    if (deck.item && deck.grant && Date.now() - deck.refreshedAt > GRANT_MARGIN_MS) {
      this.refreshDeck(deck, !deck.audio.paused || this.pendingTransition?.to === deck.item.id, true);
      return;
    }
    // Adaptive streaming failed in this browser: one retry with a plain file before giving up.
    if (deck.rendition && !deck.rendition.startsWith("progressive") && !deck.triedFallback) {
      deck.triedFallback = true;
      const at = deck.audio.currentTime;
      const wasPlaying = !deck.audio.paused;
      try {
        deck.useProgressive();
        deck.audio.currentTime = at;
        if (wasPlaying) deck.audio.play().catch(() => {});
        this.emit("change");
        return;
      } catch { /* fall through to the error */ }
    }
    this.error = message;
    this.emit("change");
  }

  // Web Audio graph, built on the first user gesture (browsers keep AudioContexts suspended before).
  ensureGraph() {
    if (this.context || this.graphFailed) { this.context?.resume?.().catch(() => {}); return; }
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      this.context = new Ctx();
      this.volumeNode = this.context.createGain();
      this.volumeNode.gain.value = sliderToVolume(this.volume);
      this.volumeNode.connect(this.context.destination);
      for (const deck of this.decks) {
        const source = this.context.createMediaElementSource(deck.audio);
        deck.gainNode = this.context.createGain();
        source.connect(deck.gainNode).connect(this.volumeNode);
        this.applyGain(deck);
      }
      this.decks.forEach((d) => { d.audio.volume = 1; });
      this.context.resume().catch(() => {});
    } catch {
      this.graphFailed = true;
      this.context = null;
      this.decks.forEach((d) => this.applyGain(d));
    }
  }

  applyGain(deck) {
    if (deck.gainNode) deck.gainNode.gain.value = deck.gain;
    // Without Web Audio the element can only attenuate, so gains above unity are lost.
    else deck.audio.volume = Math.min(1, deck.gain * sliderToVolume(this.volume));
  }

  setVolume(value) {
    this.volume = Math.min(1, Math.max(0, Number(value)));
    if (this.volumeNode) this.volumeNode.gain.value = sliderToVolume(this.volume);
    else this.decks.forEach((d) => this.applyGain(d));
    this.emit("volume");
  }

  markActive() {
    this.decks.forEach((d, i) => { d.audio.dataset.active = String(i === this.activeIndex); });
  }

  swap() {
    this.activeIndex = 1 - this.activeIndex;
    this.markActive();
  }

  // --- public controls -------------------------------------------------------------------

  playQueue(items, index = 0) {
    this.ensureGraph();
    this.leave();
    this.queue.set(items, index);
    return this.loadCurrent(true);
  }

  playNext(item) {
    if (!this.current) return this.playQueue([item], 0);
    this.queue.insert(item);
    this.invalidatePreload();
    this.emit("change");
  }

  addToQueue(item) {
    if (!this.current) return this.playQueue([item], 0);
    this.queue.append(item);
    this.emit("change");
  }

  removeFromQueue(index) {
    if (index === this.queue.index) return;
    this.queue.remove(index);
    this.invalidatePreload();
    this.emit("change");
  }

  jump(index) {
    this.ensureGraph();
    this.leave();
    this.queue.jump(index);
    return this.loadCurrent(true);
  }

  toggle() {
    if (!this.current) return;
    if (this.paused) this.play(); else this.pause();
  }

  play() {
    this.ensureGraph();
    if (!this.current) return;
    if (!this.active.loaded && !this.loading) { this.loadCurrent(true); return; }
    const deck = this.active;
    if (this.refreshing === deck) return; // it resumes once the new links are in
    if (deck.audio.ended) this.restartListen(deck); // a replay is a new play
    if (deck.loaded && expiresSoon(deck.grant)) { this.refreshDeck(deck, true, false); return; }
    deck.audio.play().catch((err) => this.playRejected(err));
  }

  pause() { this.active.audio.pause(); }

  next() {
    if (!this.queue.hasNext()) return;
    this.ensureGraph();
    this.leave();
    this.queue.next();
    return this.loadCurrent(true);
  }

  previous() {
    this.ensureGraph();
    if (this.active.audio.currentTime > RESTART_THRESHOLD_S || !this.queue.hasPrevious()) {
      if (this.active.loaded) this.restartListen(this.active);
      this.seek(0);
      return;
    }
    this.leave();
    this.queue.previous();
    return this.loadCurrent(true);
  }

  seek(seconds) {
    const a = this.active.audio;
    if (!this.active.loaded) return;
    const duration = Number.isFinite(a.duration) ? a.duration : Infinity;
    a.currentTime = Math.min(Math.max(0, seconds), Math.max(0, duration - 0.05));
    this.emit("time");
  }

  seekBy(delta) { this.seek(this.active.audio.currentTime + delta); }

  // --- internals ---------------------------------------------------------------------------

  playRejected(err) {
    if (err?.name === "AbortError") return; // a newer load replaced this one
    this.error = err?.name === "NotAllowedError" ? "The browser blocked autoplay: press Play to start." : (err?.message || "Playback failed.");
    this.emit("change");
  }

  // The track starts over (replay after the end, "previous" back to 0): report and count anew.
  restartListen(deck) {
    this.report(deck);
    if (deck.listen) deck.listen = newListen();
  }

  // New signed URLs for the deck's track, resuming where it was (and playing if asked).
  async refreshDeck(deck, autoplay, expired) {
    this.refreshing = deck;
    const at = deck.audio.currentTime;
    if (expired) this.error = EXPIRED_MESSAGE;
    this.loading = deck === this.active;
    this.emit("change");
    try {
      await deck.refresh(at);
    } catch (err) {
      if (this.refreshing === deck) this.refreshing = null;
      if (err instanceof StaleLoad) return;
      this.loading = false;
      this.error = err.message || "Could not reconnect to the stream.";
      this.emit("change");
      return;
    }
    if (this.refreshing === deck) this.refreshing = null;
    if (deck !== this.active) return;
    this.loading = false;
    this.error = null;
    this.emit("change");
    if (autoplay) deck.audio.play().catch((err) => this.playRejected(err));
  }

  // The current track is being left (skip, new queue): report what was listened to.
  leave() {
    this.report(this.active);
    this.pendingTransition = null;
  }

  // `skipOnFail`: an automatic advance that cannot load the track goes on to the one after.
  async loadCurrent(autoplay, { skipOnFail = false } = {}) {
    const item = this.current;
    this.error = null;
    this.refreshing = null;
    if (!item) { this.active.unload(); this.emit("change"); return; }
    const idle = this.idle;
    if (idle.loaded && idle.item?.id === item.id) {
      // Already preloaded (the user pressed Next after the preload finished).
      this.active.unload();
      this.swap();
    } else {
      if (idle.item && idle.item.id !== this.queue.peekNext()?.id) idle.unload();
      this.active.audio.pause();
      this.loading = true;
      this.emit("change");
      try {
        await this.active.load(item);
      } catch (err) {
        if (err instanceof StaleLoad) return;
        this.loading = false;
        if (skipOnFail && this.queue.hasNext()) {
          this.dispatchEvent(new CustomEvent("skipped", { detail: { item, message: err.message || "it could not be loaded." } }));
          this.pendingTransition = null;
          this.queue.next();
          return this.loadCurrent(autoplay, { skipOnFail });
        }
        this.error = err.message || "Could not load this track.";
        this.emit("change");
        return;
      }
      this.loading = false;
    }
    this.error = null;
    this.emit("change");
    if (autoplay) this.active.audio.play().catch((err) => this.playRejected(err));
  }

  invalidatePreload() {
    const next = this.queue.peekNext();
    if (this.idle.item && this.idle.item.id !== next?.id) this.idle.unload();
  }

  maybePreload() {
    const next = this.queue.peekNext();
    const idle = this.idle;
    if (!next || idle.item?.id === next.id) return;
    const failedAt = this.preloadFailures.get(next.id);
    if (failedAt !== undefined && performance.now() - failedAt < PRELOAD_RETRY_MS) return;
    const a = this.active.audio;
    const remaining = (Number.isFinite(a.duration) ? a.duration : Infinity) - a.currentTime;
    if (remaining > PRELOAD_REMAINING_S && a.currentTime < PRELOAD_AFTER_S) return;
    idle.load(next).then(() => { this.preloadFailures.delete(next.id); this.emit("preload"); }).catch((err) => {
      if (err instanceof StaleLoad) return;
      // Leave the idle deck empty; the track is loaded normally when its turn comes.
      this.preloadFailures.set(next.id, performance.now());
      if (idle.item?.id === next.id) idle.unload();
    });
  }

  onEnded(deck) {
    if (deck.listen && deck.listen.last !== null && Number.isFinite(deck.audio.duration)) {
      deck.listen.ms += Math.max(0, Math.min(2, deck.audio.duration - deck.listen.last)) * 1000;
      deck.listen.last = null;
    }
    this.report(deck);
    const endedAt = performance.now();
    if (!this.queue.hasNext()) { this.emit("state"); return; }
    const from = deck.item?.id;
    const nextItem = this.queue.next();
    const idle = this.idle;
    if (idle.loaded && idle.item?.id === nextItem.id) {
      // Gapless path: the idle deck already holds the start of the next track.
      this.pendingTransition = { from, to: nextItem.id, endedAt, playingAt: null };
      this.swap();
      this.active.audio.play().catch((err) => this.playRejected(err));
      deck.unload();
      this.error = null;
      this.emit("change");
    } else {
      this.pendingTransition = { from, to: nextItem.id, endedAt, playingAt: null };
      this.loadCurrent(true, { skipOnFail: true });
    }
  }

  state() {
    const a = this.active.audio;
    return {
      trackId: this.current?.id ?? null,
      currentTime: a.currentTime,
      duration: Number.isFinite(a.duration) ? a.duration : (this.active.grant?.durationMs ?? 0) / 1000,
      paused: a.paused,
      error: this.error,
      rendition: this.active.rendition,
      queue: this.queue.ids(),
      index: this.queue.index,
    };
  }

  bufferedAhead() { return this.active.bufferedAhead(); }

  // Report the play in progress when the tab goes away (fetch keepalive survives the unload).
  flush() { this.report(this.active); }
}
