// The /v1 API, with the bearer token the user gave: kept in this tab's session storage
// (gone when the tab closes), sent in the Authorization header, never in a URL or a cookie.

const KEY = 'ordo.token';

export function token() {
  return sessionStorage.getItem(KEY) ?? '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// What the current token may do (GET /v1/token): its scopes, asked once per token. A page
// shows an action only when the scope it needs is here; the API checks again.
let known = { token: null, scopes: null };
export function scopes() {
  if (known.token !== token()) {
    known = { token: token(), scopes: get('/v1/token').then((r) => r.scopes, () => []) };
  }
  return known.scopes;
}

// POST `body` (JSON) to `path`; the answer as JSON, or an ApiError.
export async function post(path, body = {}) {
  const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  let res;
  try {
    res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body),
      credentials: 'omit', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, `the server did not answer (${e.message})`);
  }
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, answer?.error?.message ?? `${res.status} ${res.statusText}`);
  return answer;
}

// GET `path`; the answer as JSON (or as text: {text: true}). A refusal or failure is an
// ApiError with the server's message.
export async function get(path, { text = false } = {}) {
  const headers = { Accept: text ? '*/*' : 'application/json' };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  let res;
  try {
    res = await fetch(path, { headers, credentials: 'omit', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, `the server did not answer (${e.message})`);
  }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      if (body?.error?.message) message = body.error.message;
    } catch {
      // not JSON: the status says it
    }
    throw new ApiError(res.status, message);
  }
  return text ? res.text() : res.json();
}
