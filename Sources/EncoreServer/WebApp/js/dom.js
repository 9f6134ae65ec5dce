// Tiny DOM helpers: build elements without innerHTML so user data can never become markup.

const SVG_NS = "http://www.w3.org/2000/svg";

// h("button.play", {type: "button", onclick: fn, aria: {label: "Play"}}, "text", child)
export function h(tag, props = {}, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name || "div");
  if (classes.length) el.className = classes.join(" ");
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "aria") for (const [a, v] of Object.entries(value)) { if (v !== undefined && v !== null) el.setAttribute(`aria-${a}`, String(v)); }
    else if (key === "class") el.className += (el.className ? " " : "") + value;
    else if (key in el && typeof value !== "string") el[key] = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export function clear(el) { el.replaceChildren(); return el; }

// Icons are drawn as SVG paths (24×24 grid); decorative, so hidden from assistive tech.
const ICONS = {
  play: "M8 5.5v13l11-6.5z",
  pause: "M7 5h3.5v14H7zM13.5 5H17v14h-3.5z",
  prev: "M6 5h2v14H6zM9.5 12 19 5v14z",
  next: "M16 5h2v14h-2zM5 5l9.5 7L5 19z",
  queue: "M4 6h12v2H4zM4 11h12v2H4zM4 16h8v2H4zM17 13v6l4.5-3z",
  plus: "M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z",
  trash: "M9 4h6l1 2h4v2H4V6h4zM6 9h12l-1 11H7z",
  volume: "M4 9h4l5-4v14l-5-4H4zM16 8.5a4.5 4.5 0 0 1 0 7M18.5 6a8 8 0 0 1 0 12",
  bug: "M9 4.5 10.5 6h3L15 4.5M8 9a4 4 0 0 1 8 0v5a4 4 0 0 1-8 0zM4 12h4M16 12h4M5 7l3 2M19 7l-3 2M5 18l3-2M19 18l-3-2",
  music: "M9 17.5V6l10-2v11.5M9 17.5a2.5 2.5 0 1 1-5 0 2.5 2.5 0 0 1 5 0zM19 15.5a2.5 2.5 0 1 1-5 0 2.5 2.5 0 0 1 5 0z",
  upload: "M12 4l5 5h-3v6h-4V9H7zM5 17h14v3H5z",
  grip: "M9 6h2v2H9zM13 6h2v2h-2zM9 11h2v2H9zM13 11h2v2h-2zM9 16h2v2H9zM13 16h2v2h-2z",
  close: "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4L12 13.4 6.4 19 5 17.6l5.6-5.6L5 6.4z",
};
const STROKED = new Set(["volume", "bug", "music"]);

export function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.classList.add("icon", STROKED.has(name) ? "stroked" : "filled");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICONS[name] ?? "");
  svg.append(path);
  return svg;
}

export function formatTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "0:00";
  const s = Math.floor(seconds);
  const hours = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

export function formatMs(ms) { return formatTime((ms ?? 0) / 1000); }

export function formatDate(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function plural(n, one, many = `${one}s`) { return `${n} ${n === 1 ? one : many}`; }

// Polite announcements for screen readers; re-set so repeated messages are still spoken.
export function announce(text) {
  const region = document.getElementById("announce");
  if (!region) return;
  region.textContent = "";
  requestAnimationFrame(() => { region.textContent = text; });
}

export function toast(text, kind = "info") {
  const host = document.getElementById("toasts");
  if (!host) return;
  const el = h(`div.toast.${kind}`, {}, text);
  host.append(el);
  setTimeout(() => el.classList.add("leaving"), 3500);
  setTimeout(() => el.remove(), 4000);
}

export function errorBox(err) {
  return h("p.error-box", { role: "alert" }, err?.message ?? String(err));
}

export function emptyState(title, hint) {
  return h("div.empty-state", {}, h("p.empty-title", {}, title), hint ? h("p.empty-hint", {}, hint) : null);
}

export function loading(label = "Loading…") {
  return h("p.loading", { role: "status" }, h("span.spinner", { aria: { hidden: "true" } }), label);
}

// A square cover image (smallest URL at least `size` px) or a neutral placeholder.
export function cover(coverUrls, size = 300, alt = "") {
  const url = pickCover(coverUrls, size);
  if (!url) return h("div.cover.placeholder", { aria: { hidden: "true" } }, icon("music"));
  return h("img.cover", { src: url, alt, loading: "lazy", decoding: "async" });
}

export function pickCover(coverUrls, size) {
  if (!coverUrls) return null;
  const sizes = Object.keys(coverUrls).map(Number).filter(Number.isFinite).sort((a, b) => a - b);
  if (!sizes.length) return null;
  const best = sizes.find((s) => s >= size) ?? sizes[sizes.length - 1];
  return coverUrls[String(best)];
}

export function isTextField(el) {
  if (!el) return false;
  if (el.isContentEditable) return true;
  if (el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
  if (el.tagName !== "INPUT") return false;
  return !["button", "checkbox", "radio", "range", "submit", "reset", "file", "color"].includes(el.type);
}

export function setTitle(text) { document.title = text ? `${text} · Encore` : "Encore"; }
