// REST client for /api/v1: JSON in and out, bearer token, errors carry the server's message.
import { getToken } from "./session.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

const BASE = "/api/v1";

export async function request(method, path, body, { signal, keepalive } = {}) {
  const headers = { Accept: "application/json" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, { method, headers, body: payload, signal, keepalive, cache: "no-cache" });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network_error", "Could not reach the server. Check your connection and try again.");
  }
  const text = await response.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (!response.ok) {
    const error = data?.error;
    const apiError = new ApiError(response.status, error?.code ?? `http_${response.status}`,
      error?.message ?? `The server answered ${response.status}.`);
    // An expired or revoked token: let the app sign out instead of failing page by page.
    if (response.status === 401 && token && apiError.code !== "invalid_credentials") {
      window.dispatchEvent(new CustomEvent("encore:unauthorized", { detail: apiError }));
    }
    throw apiError;
  }
  return data;
}

const enc = encodeURIComponent;

// Follows nextOffset until the list ends (capped so a huge list cannot hang a page).
async function all(path, maxPages = 50) {
  const items = [];
  let offset = 0;
  for (let page = 0; page < maxPages && offset !== null && offset !== undefined; page++) {
    const sep = path.includes("?") ? "&" : "?";
    const data = await request("GET", `${path}${sep}limit=100&offset=${offset}`);
    items.push(...data.items);
    offset = data.nextOffset;
  }
  return items;
}

export const api = {
  register: (body) => request("POST", "/auth/register", body),
  login: (body) => request("POST", "/auth/login", body),
  me: () => request("GET", "/users/me"),

  search: (q, { signal, limit = 10 } = {}) => request("GET", `/search?q=${enc(q)}&limit=${limit}`, undefined, { signal }),

  artist: (id) => request("GET", `/artists/${enc(id)}`),
  artistsOf: (ownerId) => all(`/artists?ownerId=${enc(ownerId)}`),
  createArtist: (body) => request("POST", "/artists", body),
  updateArtist: (id, body) => request("PATCH", `/artists/${enc(id)}`, body),
  deleteArtist: (id) => request("DELETE", `/artists/${enc(id)}`),
  artistAlbums: (id) => all(`/artists/${enc(id)}/albums`),

  album: (id) => request("GET", `/albums/${enc(id)}`),
  albumTracks: (id) => all(`/albums/${enc(id)}/tracks`),
  createAlbum: (body) => request("POST", "/albums", body),
  updateAlbum: (id, body) => request("PATCH", `/albums/${enc(id)}`, body),
  deleteAlbum: (id) => request("DELETE", `/albums/${enc(id)}`),
  coverUploadUrl: (id) => request("GET", `/albums/${enc(id)}/cover-upload-url`),
  attachCover: (id, coverUrl) => request("PUT", `/albums/${enc(id)}/cover`, { coverUrl }),

  track: (id) => request("GET", `/tracks/${enc(id)}`),
  // The file's size binds the URL to it (object storage then refuses any other length).
  uploadUrl: (size) => request("GET", `/tracks/upload-url${size ? `?size=${size}` : ""}`),
  updateUrl: (id, size) => request("GET", `/tracks/update-url/${enc(id)}${size ? `?size=${size}` : ""}`),
  createTrack: (body) => request("POST", "/tracks", body),
  updateTrack: (id, body) => request("PATCH", `/tracks/${enc(id)}`, body),
  deleteTrack: (id) => request("DELETE", `/tracks/${enc(id)}`),
  stream: (id) => request("GET", `/tracks/${enc(id)}/stream`),

  playlists: () => all("/playlists"),
  playlist: (id) => request("GET", `/playlists/${enc(id)}`),
  playlistEntries: (id) => all(`/playlists/${enc(id)}/tracks`),
  createPlaylist: (body) => request("POST", "/playlists", body),
  updatePlaylist: (id, body) => request("PATCH", `/playlists/${enc(id)}`, body),
  deletePlaylist: (id) => request("DELETE", `/playlists/${enc(id)}`),
  addToPlaylist: (id, trackId) => request("POST", `/playlists/${enc(id)}/tracks`, { trackId }),
  movePlaylistEntry: (id, from, to) => request("POST", `/playlists/${enc(id)}/tracks/move`, { from, to }),
  removePlaylistEntry: (id, position) => request("DELETE", `/playlists/${enc(id)}/tracks/${position}`),

  reportPlay: (body) => request("POST", "/plays", body, { keepalive: true }),
  history: (offset = 0, limit = 50) => request("GET", `/users/me/history?limit=${limit}&offset=${offset}`),
};
