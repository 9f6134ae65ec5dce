// The signed-in session lives in sessionStorage only: it dies with the tab and never reaches a URL.
const KEY = "encore.session";
const listeners = new Set();

export function getSession() {
  try {
    const raw = sessionStorage.getItem(KEY);
    const value = raw ? JSON.parse(raw) : null;
    return value && value.token && value.user ? value : null;
  } catch { return null; }
}

export function setSession(session) {
  sessionStorage.setItem(KEY, JSON.stringify({ token: session.token, user: session.user, expiresAt: session.expiresAt }));
  listeners.forEach((fn) => fn(getSession()));
}

export function updateUser(user) {
  const current = getSession();
  if (current) setSession({ ...current, user });
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
  listeners.forEach((fn) => fn(null));
}

export function getToken() { return getSession()?.token ?? null; }
export function currentUser() { return getSession()?.user ?? null; }
export function isArtist() { const role = currentUser()?.role; return role === "artist" || role === "admin"; }
export function onSessionChange(fn) { listeners.add(fn); return () => listeners.delete(fn); }
