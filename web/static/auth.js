// Sign-in against camgate's identity provider, the way XProtect web clients
// do it: the password grant with client_id VmsClient (which also returns a
// refresh token), a refresh 60 s before the access token expires, and the
// new token handed to every open session (PATCH …/Session/{id} {token}).
//
// Tokens live in sessionStorage: they survive a reload of this tab but not
// the tab itself, and no other site can read them. An access token that
// expired meanwhile (a tab asleep for an hour) is renewed with the refresh
// token before the page starts (ready).

const TOKEN_URL = '/API/IDP/connect/token';
const STORE_KEY = 'camgate.auth';
const REFRESH_BEFORE_S = 60;

let state = load(); // {user, accessToken, refreshToken, expiresAt(ms)} or null
let refreshTimer = 0;
// ended says why the last session ended when the page, not the user, ended
// it ({user, reason}), for the sign-in form; null after a sign-out by hand.
let ended = null;
const listeners = new Set();

function load() {
  try {
    const s = JSON.parse(sessionStorage.getItem(STORE_KEY) || 'null');
    return s && s.accessToken && (s.expiresAt > Date.now() || s.refreshToken) ? s : null;
  } catch {
    return null;
  }
}

function save() {
  if (state) sessionStorage.setItem(STORE_KEY, JSON.stringify(state));
  else sessionStorage.removeItem(STORE_KEY);
}

// onChange registers fn(event) for 'signed-in', 'refreshed', 'signing-out'
// (the token is still there: last calls may use it) and 'signed-out'
// (endedBecause() then says why, unless the user signed out).
export function onChange(fn) {
  listeners.add(fn);
}

function emit(event) {
  for (const fn of listeners) fn(event);
}

export function accessToken() {
  return state?.accessToken ?? null;
}

export function userName() {
  return state?.user ?? null;
}

// endedBecause is {user, reason} when the session ended without the user
// signing out (the gateway refused the token or its renewal), else null.
export function endedBecause() {
  return ended;
}

// tokenRequest posts a form to the token endpoint and returns the JSON
// answer, or throws an Error whose message is fit to show; its status is
// the HTTP status (0: no answer).
async function tokenRequest(form) {
  let res;
  try {
    res = await fetch(TOKEN_URL, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(form),
      cache: 'no-store',
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw Object.assign(new Error(`the gateway cannot be reached (${err.name === 'TimeoutError' ? 'timed out' : err.message})`), { status: 0 });
  }
  let json = null;
  try {
    json = await res.json();
  } catch {
    // Not JSON: the status line below says enough.
  }
  if (!res.ok) {
    if (json?.error === 'invalid_grant' && form.grant_type === 'password') {
      throw new Error(json.error_description || 'wrong user name or password');
    }
    throw Object.assign(new Error(json?.error_description || json?.error || `HTTP ${res.status}`), { status: res.status });
  }
  return json;
}

function accept(user, json) {
  state = {
    user,
    accessToken: json.access_token,
    refreshToken: json.refresh_token ?? state?.refreshToken ?? null,
    expiresAt: Date.now() + json.expires_in * 1000,
  };
  save();
  schedule();
}

// signIn exchanges a user name and password for tokens.
export async function signIn(user, password) {
  const json = await tokenRequest({ grant_type: 'password', username: user, password, client_id: 'VmsClient' });
  ended = null;
  accept(user, json);
  emit('signed-in');
}

// signOut ends the session; reason, when the page ends it rather than the
// user, is shown on the sign-in form ("Your session ended: reason").
export function signOut(reason = '') {
  clearTimeout(refreshTimer);
  if (state) emit('signing-out');
  ended = reason && state ? { user: state.user, reason } : null;
  state = null;
  save();
  emit('signed-out');
}

function schedule() {
  clearTimeout(refreshTimer);
  if (!state?.refreshToken) return;
  const inMs = Math.max(5_000, state.expiresAt - Date.now() - REFRESH_BEFORE_S * 1000);
  refreshTimer = setTimeout(refresh, inMs);
}

async function refresh() {
  if (!state?.refreshToken) return;
  try {
    const json = await tokenRequest({ grant_type: 'refresh_token', refresh_token: state.refreshToken, client_id: 'VmsClient' });
    accept(state.user, json);
    emit('refreshed');
  } catch (err) {
    // A refused refresh token (400: spent, expired, revoked, or from a
    // gateway that has lost it) cannot be retried: sign in again. A
    // network error or a gateway starting up may pass: try again shortly
    // while the access token lasts.
    if (err.status === 400 || err.status === 401) {
      signOut(`the gateway no longer accepts this sign-in (${err.message})`);
    } else if (state && state.expiresAt - Date.now() > 15_000) {
      refreshTimer = setTimeout(refresh, 10_000);
    } else {
      signOut(`it could not be renewed before it expired (${err.message})`);
    }
  }
}

// ready resolves once the tokens kept over a reload can be used: one that
// expires within the refresh margin (or already has) is renewed first, so
// that the page neither calls the API with a dead token nor shows an empty
// sign-in form; if the gateway refuses, the form says why (signOut).
export const ready = state && state.expiresAt - Date.now() < REFRESH_BEFORE_S * 1000 ? refresh() : Promise.resolve(schedule());
