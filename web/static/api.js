// Every request to the gateway goes through api(), which adds the
// "Authorization: Bearer …" header here and nowhere else.
import { accessToken, signOut } from './auth.js';

// ApiError carries the text to show the user; status is 0 when the gateway
// could not be reached at all.
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

const TIMEOUT_MS = 10_000;

// api sends a JSON request and returns the parsed JSON answer (null for an
// empty body). Errors in the gateway's XProtect shape
// {"error":{"httpCode":N,"details":[{"errorText":"…"}]}} become an ApiError
// with that errorText.
export async function api(method, path, body) {
  const init = {
    method,
    headers: { Accept: 'application/json' },
    cache: 'no-store', // candidate polls must never be answered from a cache
    // A DELETE is sent while the page unloads; keepalive lets it outlive the page.
    keepalive: method === 'DELETE',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  };
  const token = accessToken();
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(`gateway unreachable (${err.name === 'TimeoutError' ? 'timed out' : err.message})`, 0);
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (a proxy's HTML error page, say): fall back to the status line.
  }
  if (res.status === 401 && token) {
    // The token was refused (expired while the tab slept, key rotated,
    // user removed): back to the sign-in form, which says why.
    signOut(`the gateway refused its token (${json?.error?.details?.[0]?.errorText ?? 'HTTP 401'})`);
  }
  if (!res.ok) {
    const detail = json?.error?.details?.[0]?.errorText;
    throw new ApiError(detail || `HTTP ${res.status} ${res.statusText}`.trim(), res.status);
  }
  return json;
}

// download fetches a file (an export) with the bearer token and returns
// it as a Blob with the file name the gateway suggests; errors as api().
export async function download(path) {
  const init = { headers: {}, cache: 'no-store' };
  const token = accessToken();
  if (token) init.headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(`gateway unreachable (${err.message})`, 0);
  }
  if (!res.ok) {
    let detail = '';
    try {
      detail = (await res.json())?.error?.details?.[0]?.errorText ?? '';
    } catch {
      // not JSON
    }
    if (res.status === 401 && token) signOut(`the gateway refused its token (${detail || 'HTTP 401'})`);
    throw new ApiError(detail || `HTTP ${res.status} ${res.statusText}`.trim(), res.status);
  }
  const name = /filename="?([^";]+)"?/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? 'export.mp4';
  return { blob: await res.blob(), name };
}
