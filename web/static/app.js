// camgate's operator console: a grid of live tiles (the landing view) and
// a camera view (live video with diagnostics, PTZ, playback), chosen by the
// address's fragment (#camera=<id>; empty: the grid). The camera list
// refreshes itself; playback and gateway failures are retried with
// back-off so that a wall display recovers on its own.
import { api } from './api.js';
import * as auth from './auth.js';
import { LiveSession } from './session.js';
import { PlaybackControl } from './playback.js';
import { PtzPad } from './ptz.js';
import { WsLiveSession } from './ws.js';
import { CameraGrid } from './grid.js';
import { Timeline } from './timeline.js';
import { Blind, describe, isDegraded, isDown, newer, stateOf } from './camstate.js';

const LIST_REFRESH_MS = 5_000;
const DISCONNECTED_MS = 8_000;
const backoff = (failures) => Math.min(1_000 * 2 ** failures, 15_000);

const $ = (id) => document.getElementById(id);
const video = $('video');

// What tests (and curious operators in the console) can read.
const status = {
  view: 'grid', // grid | camera
  // loading | unreachable (no camera list yet) | empty | connecting | playing | retrying | signed-out
  // | refused (the gateway refused a playback request: no recording there)
  state: 'loading',
  signedIn: false,
  cameraId: null,
  sessionId: null,
  ttffMs: null,
  connectionState: null,
  iceConnectionState: null,
  commandsChannel: null, // readyState of the "videoos-commands" data channel
  width: 0,
  height: 0,
  framesDecoded: 0,
  fps: 0,
  error: null,
  // The viewed camera's own state while it plays live: {state, reason}
  // (docs/cameras.md); while it is reconnecting or offline the video is
  // hidden and the reason shown over it.
  cameraState: null,
};
window.camgate = status;

// The PTZ pad under the video, for cameras with PTZ (status.ptz).
const pad = new PtzPad({ root: $('ptz'), viewport: $('viewport'), video, getSession: () => session, status });

// Playback under the video: "Play from", speed, skip gaps, back to live, and
// the frame clock (status.playback, status.frameClock).
const playback = new PlaybackControl({ root: $('playback'), video, status, replay: () => play(status.cameraId) });

// Hides the camera view's video while the camera is down (camstate.js).
const blind = new Blind($('viewport'), video, () => renderCameraState());

// The grid of live tiles, the landing view after sign-in.
const grid = new CameraGrid({
  root: $('grid'),
  status,
  onOpen: (id) => { location.hash = `camera=${encodeURIComponent(id)}`; },
  // A tile's cameraState event updates the camera list at once too.
  onCameraState: (id, st) => applyCameraState(id, st),
});

// route reads the fragment: the camera to view, or null for the grid.
// Camera ids are GUIDs: a link may spell them in either case.
function route() {
  const m = /^#camera=(.+)$/.exec(location.hash);
  if (!m) return null;
  const id = decodeURIComponent(m[1]);
  return cameras.find((c) => c.id.toLowerCase() === id.toLowerCase())?.id ?? id;
}

// showView switches between the grid and the camera view; only the view
// on screen has sessions.
function showView() {
  if (!auth.accessToken()) return;
  const cameraId = route();
  status.view = cameraId ? 'camera' : 'grid';
  $('grid-view').hidden = Boolean(cameraId);
  $('camera-view').hidden = !cameraId;
  if (cameraId) {
    grid.hide();
    // Before the camera list arrives, refreshCameras starts the view.
    if (cameraId !== status.cameraId && cameras.length) play(cameraId);
    // Keyboard users land at the top of the camera view.
    if (document.activeElement === document.body || document.activeElement?.closest('#grid-view')) $('to-grid').focus();
  } else {
    const from = status.cameraId;
    stopCamera();
    if (cameras.length) grid.show(cameras);
    // Back from a camera: its tile has the focus.
    if (from) document.querySelector(`#grid li[data-id="${CSS.escape(from)}"] button`)?.focus();
  }
}

function stopCamera() {
  clearTimeout(retryTimer);
  clearTimeout(disconnectTimer);
  session?.close();
  session = null;
  video.srcObject = null;
  pad.show(null);
  timeline.show(null);
  Object.assign(status, { cameraId: null, sessionId: null, ttffMs: null, connectionState: null, iceConnectionState: null });
  renderCameras();
  renderCameraState();
  setState('grid');
}

// The timeline of recordings under the video (status.timeline).
const timeline = new Timeline({ root: $('timeline'), status, playFrom: (t) => playback.playFrom(t), onSpans: (s) => playback.recorded(s) });

// Signaling: REST (the default) or XProtect's WebSocket API with ?signaling=ws.
const SIGNALING = new URLSearchParams(location.search).get('signaling') === 'ws' ? 'ws' : 'rest';
const Session = SIGNALING === 'ws' ? WsLiveSession : LiveSession;
status.signaling = SIGNALING;

let cameras = [];
let session = null;
let listFailures = 0;
let playFailures = 0;
let retryTimer = 0;
let disconnectTimer = 0;

function say(text, isError = false) {
  $('message').textContent = text;
  $('message').classList.toggle('error', isError);
}

function gridSay(text, isError = false) {
  $('grid-message').textContent = text;
  $('grid-message').classList.toggle('error', isError);
}

// ---- camera list ----

let listTimer = 0;

async function refreshCameras() {
  clearTimeout(listTimer);
  if (!auth.accessToken()) return;
  try {
    // XProtect's collection envelope: {"array":[…]} (docs/api.md).
    const listed = (await api('GET', '/API/rest/v1/cameras')).array ?? [];
    // A list fetched before a cameraState event must not undo it.
    cameras = listed.map((c) => {
      const old = cameras.find((o) => o.id === c.id);
      return old && !newer(stateOf(old), stateOf(c)) ? { ...c, ...stateOf(old) } : c;
    });
    const recovered = listFailures > 0;
    if (listFailures) { say(''); gridSay(''); $('banner').hidden = true; }
    listFailures = 0;
    status.gateway = 'reachable';
    if (status.state === 'unreachable') setState('loading');
    renderCameras();
    renderCameraState();
    if (route()) {
      if (!status.cameraId) play(route());
      // The gateway answers again after it could not be reached: it may
      // have restarted without our session, whose connection then still
      // looks "connected" for seconds. A new session costs a fraction of a
      // second, so the view starts again at once.
      else if (recovered) {
        playFailures = Math.min(playFailures, 1); // the back-off starts over
        play(status.cameraId);
      }
    } else {
      grid.show(cameras);
      if (recovered) grid.reconnect();
      if (status.state === 'loading') setState('grid');
    }
    if (!cameras.length) { setState('empty'); say('No cameras are configured.'); gridSay('No cameras are configured.'); }
    listTimer = setTimeout(refreshCameras, LIST_REFRESH_MS);
  } catch (err) {
    // At most the refresh interval: the page notices soon that the gateway is back.
    const delay = Math.min(backoff(listFailures++), LIST_REFRESH_MS);
    // A playing view keeps its state: the stream may well outlive a hiccup.
    if (!status.cameraId) setState('unreachable', err.message);
    status.gateway = 'unreachable';
    // api() says "gateway unreachable (why)" when no answer came at all.
    const why = err.status === 0 ? err.message.replace(/^gateway unreachable \((.*)\)$/, '$1') : err.message;
    const text = `The gateway cannot be reached (${why}). Reconnecting in ${delay / 1000} s…`;
    say(text, true);
    gridSay(text, true);
    $('banner').textContent = 'Gateway unreachable: reconnecting…';
    $('banner').hidden = false;
    listTimer = setTimeout(refreshCameras, delay);
  }
}

// renderCameras updates the list in place so that keyboard focus survives
// the periodic refresh.
function renderCameras() {
  const list = $('cameras');
  const wanted = new Set(cameras.map((c) => c.id));
  for (const li of [...list.children]) if (!wanted.has(li.dataset.id)) li.remove();
  for (const cam of cameras) {
    let li = list.querySelector(`li[data-id="${CSS.escape(cam.id)}"]`);
    if (!li) {
      li = document.createElement('li');
      li.dataset.id = cam.id;
      li.innerHTML = '<button type="button"><span class="name"></span> <span class="badge"></span><small class="why"></small></button>';
      li.querySelector('button').addEventListener('click', () => {
        const hash = `#camera=${encodeURIComponent(cam.id)}`;
        // The camera on screen again: a new session (as a reload would).
        if (location.hash === hash) play(cam.id);
        else location.hash = hash;
      });
      list.append(li);
    }
    const button = li.querySelector('button');
    button.setAttribute('aria-pressed', String(cam.id === status.cameraId));
    li.querySelector('.name').textContent = cam.name || cam.id;
    const badge = li.querySelector('.badge');
    badge.textContent = cam.state;
    badge.className = `badge badge-${cam.state}`;
    li.querySelector('.why').textContent = cam.state !== 'streaming' && cam.reason ? cam.reason : '';
    button.title = cam.since ? `${cam.state} since ${new Date(cam.since).toLocaleString()}` : cam.state;
  }
}

// ---- the camera's own state ----

// applyCameraState takes a cameraState event of the viewed camera: the
// list and the view show it at once, not at the next refresh.
function applyCameraState(cameraId, st) {
  const cam = cameras.find((c) => c.id.toLowerCase() === cameraId.toLowerCase());
  if (!cam || !newer(stateOf(cam), st)) return;
  Object.assign(cam, stateOf(st));
  renderCameras();
  renderCameraState();
}

// renderCameraState hides the live video of a camera that is down and says
// why over it (recordings play whatever the camera does).
let shownDown = false;
function renderCameraState() {
  const cam = status.cameraId ? cameras.find((c) => c.id === status.cameraId) : null;
  const st = cam && session && !session.playback ? stateOf(cam) : null;
  status.cameraState = st ? { state: st.state, reason: st.reason } : null;
  blind.show(st);
  const down = isDown(st);
  $('video-state').textContent = down ? describe(st) : '';
  if (down) say(`${cam.name || cam.id} sends no video; the picture comes back by itself when the camera does.`, true);
  else if (isDegraded(st)) say(`${describe(st)}.`);
  else if (shownDown && status.cameraId) say(status.state === 'playing' ? '' : `Connecting to ${cam?.name || status.cameraId}…`);
  shownDown = down;
}

// ---- live view ----

function play(cameraId) {
  clearTimeout(retryTimer);
  clearTimeout(disconnectTimer);
  if (cameraId !== status.cameraId) playFailures = 0;
  session?.close();
  video.srcObject = null;
  blind.reset(); // a new session starts without a picture
  const cam = cameras.find((c) => c.id === cameraId);
  $('title').textContent = cam?.name || cameraId;
  video.setAttribute('aria-label', `Live video of ${cam?.name || cameraId}`);
  Object.assign(status, {
    cameraId, sessionId: null, ttffMs: null, connectionState: null, iceConnectionState: null, commandsChannel: null,
    width: 0, height: 0, framesDecoded: 0, fps: 0, bitrateKbps: null, packetsLost: 0, rttMs: null,
  });
  renderCameras();
  setState('connecting');
  say(`Connecting to ${cam?.name || cameraId}…`);

  timeline.show(cam?.id ?? cameraId);
  const request = playback.begin();
  if (request) video.setAttribute('aria-label', `Recorded video of ${cam?.name || cameraId}`);
  const s = (session = new Session(cameraId, video, () => onSessionChange(s), { playback: request }));
  // PTZ steers the live camera: no pad while recordings play.
  const ptzCamera = cam?.ptz && !s.playback ? cameraId : null;
  if (ptzCamera !== pad.cameraId) pad.show(ptzCamera);
  renderCameraState();
  s.start().then(
    () => { status.sessionId = s.id; },
    (err) => {
      if (s.closed) return;
      // A refused playback request (no recording at that time) is not retried.
      if (playback.refused(err)) { setState('refused', err.message); say(`Cannot play back: ${err.message}`, true); return; }
      retry(s, err.message);
    },
  );
}

function onSessionChange(s) {
  if (s !== session || s.closed) return;
  status.sessionId = s.id;
  status.connectionState = s.pc?.connectionState ?? null;
  status.iceConnectionState = s.pc?.iceConnectionState ?? null;
  status.commandsChannel = s.channel?.readyState ?? null;
  playback.watch(s);
  if (s.cameraState) applyCameraState(status.cameraId, s.cameraState);
  if (s.ttffMs !== null && status.ttffMs === null) {
    status.ttffMs = s.ttffMs;
    playFailures = 0;
    setState('playing');
    say('');
  }
  if (status.connectionState === 'failed') retry(s, 'the connection to the gateway failed');
  if (s.error) retry(s, s.error); // the gateway ended the session (WebSocket signaling says so)
  // Chromium waits about 30 s before it declares a lost peer "failed"; a
  // live view should come back sooner, so a long interruption counts as one.
  clearTimeout(disconnectTimer);
  if (status.connectionState === 'disconnected') {
    say('The connection is interrupted; waiting for it to recover…', true);
    disconnectTimer = setTimeout(() => retry(s, 'the connection was interrupted'), DISCONNECTED_MS);
  }
  if (status.connectionState === 'connected' && status.state === 'playing') say('');
  renderDiagnostics();
}

function retry(s, reason) {
  if (s !== session || s.closed) return;
  s.close();
  const delay = backoff(playFailures++);
  const name = cameras.find((c) => c.id === status.cameraId)?.name || status.cameraId;
  setState('retrying', reason);
  say(`Cannot play ${name}: ${reason.replace(/\.$/, '')}. Retrying in ${delay / 1000} s.`, true);
  retryTimer = setTimeout(() => { if (status.cameraId) play(status.cameraId); }, delay);
}

function setState(state, error = null) {
  status.state = state;
  status.error = error;
  document.body.dataset.state = state;
}

// ---- diagnostics ----

async function sampleStats() {
  const s = session;
  if (s && !s.closed && s.pc) {
    try {
      Object.assign(status, await s.stats());
    } catch {
      // The connection closed while sampling; the next second will tell.
    }
  }
  if (grid.active) status.tileStats = await grid.stats();
  renderDiagnostics();
}

function renderDiagnostics() {
  const d = status;
  const parts = [
    `connection: ${d.connectionState ?? '–'}`,
    `ICE: ${d.iceConnectionState ?? '–'}`,
    `first frame: ${d.ttffMs !== null ? `${d.ttffMs} ms` : '–'}`,
    `resolution: ${d.width ? `${d.width}×${d.height}` : '–'}`,
    `frames: ${d.framesDecoded ?? 0}`,
    `${d.fps ? Math.round(d.fps) : 0} fps`,
    `bitrate: ${d.bitrateKbps ? `${d.bitrateKbps} kbit/s` : '–'}`,
    `lost: ${d.packetsLost ?? 0}`,
    `RTT: ${d.rttMs != null ? `${d.rttMs} ms` : '–'}`,
  ];
  $('diag').textContent = parts.join(' · ');
}

// ---- sign-in ----

function showSignedIn() {
  const signedIn = Boolean(auth.accessToken());
  $('sign-in').hidden = signedIn;
  $('app').hidden = !signedIn;
  $('account').hidden = !signedIn;
  $('account-name').textContent = auth.userName() ?? '';
  status.signedIn = signedIn;
  // A session the page had to end says so, rather than leaving an empty
  // form that looks like a fresh start.
  const ended = signedIn ? null : auth.endedBecause();
  status.sessionEnded = ended?.reason ?? null;
  $('sign-in-notice').textContent = ended ? `Your session ended: ${ended.reason}. Sign in again.` : '';
  $('sign-in-notice').hidden = !ended;
  if (ended && !$('username').value) $('username').value = ended.user;
  if (!signedIn) (ended ? $('password') : $('username')).focus();
}

$('sign-in').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const button = ev.target.querySelector('button');
  button.disabled = true;
  $('sign-in-error').textContent = '';
  try {
    await auth.signIn($('username').value.trim(), $('password').value);
    $('password').value = '';
  } catch (err) {
    $('sign-in-error').textContent = `Cannot sign in: ${err.message}.`;
  } finally {
    button.disabled = false;
  }
});

$('sign-out').addEventListener('click', () => auth.signOut());

auth.onChange((event) => {
  if (event === 'signed-in') {
    showSignedIn();
    showView();
    refreshCameras();
  } else if (event === 'refreshed') {
    status.tokenRefreshes = (status.tokenRefreshes ?? 0) + 1;
    // Like the XProtect sample: the session gets the new token too, or the
    // gateway closes it when the old one expires.
    session?.updateToken(auth.accessToken());
  } else if (event === 'signing-out') {
    // Close while the token still works, so the DELETE is accepted.
    session?.close();
    session = null;
    grid.clear();
  } else if (event === 'signed-out') {
    clearTimeout(listTimer);
    clearTimeout(retryTimer);
    session?.close();
    session = null;
    Object.assign(status, { cameraId: null, sessionId: null });
    pad.show(null);
    timeline.show(null);
    grid.clear();
    $('banner').hidden = true;
    cameras = [];
    renderCameras();
    setState('signed-out');
    showSignedIn();
  }
});

setInterval(sampleStats, 1_000);
addEventListener('pagehide', () => { session?.close(); grid.hide(); });
addEventListener('hashchange', showView);
$('to-grid').addEventListener('click', () => { location.hash = ''; });
// Escape in the camera view goes back to the grid (the timeline uses it
// first, to clear its cursor and selection; form fields keep theirs).
addEventListener('keydown', (e) => {
  if (e.key !== 'Escape' || status.view !== 'camera' || e.defaultPrevented) return;
  if (e.target.closest?.('input, select, textarea')) return;
  location.hash = '';
});
renderDiagnostics();
await auth.ready; // tokens kept over a reload are renewed first when they expired
showSignedIn();
showView();
refreshCameras();
