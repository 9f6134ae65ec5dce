// Hash router: "#/album/{id}?x=y" → { name, params, query }. Patterns are tried in order.
const routes = [];

export function route(name, pattern) {
  const keys = [];
  const source = pattern.replace(/:[a-z]+/gi, (m) => { keys.push(m.slice(1)); return "([0-9a-fA-F-]{36})"; }); // ids are UUIDs
  routes.push({ name, keys, re: new RegExp(`^${source}$`) });
}

export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?");
  const query = Object.fromEntries(new URLSearchParams(search));
  for (const r of routes) {
    const m = r.re.exec(path);
    if (!m) continue;
    try {
      return { name: r.name, params: Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])])), query, path };
    } catch { break; } // a malformed escape (URIError): an unknown route
  }
  return { name: null, params: {}, query, path };
}

export function navigate(hash, { replace = false } = {}) {
  if (replace) {
    history.replaceState(null, "", hash);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else if (location.hash === hash) {
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    location.hash = hash;
  }
}
