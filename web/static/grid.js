// The grid: every camera the user may see as a live tile, each its own
// WebRTC session, all signaled over the page's one WebSocket (ws.js). A
// tile shows the camera's name and a state badge (streaming, connecting,
// retrying, offline); a click or Enter opens the camera view. A tile whose
// session fails or is interrupted starts again with back-off, so the grid
// of a wall display recovers by itself from a network failure or a
// gateway restart. While the camera itself is down (reconnecting, offline,
// unsupported: the gateway's cameraState event or the cameras list) the
// tile hides its last picture and says so with the reason (camstate.js);
// the session stays and the picture comes back with the camera.
import { WsLiveSession } from './ws.js';
import { Blind, describe, isDegraded, isDown, newer, stateOf } from './camstate.js';

const backoff = (failures) => Math.min(1_000 * 2 ** failures, 15_000);
// How long an interrupted connection may stay so before the tile starts
// over (Chromium takes about 30 s to call it "failed").
const DISCONNECTED_MS = 5_000;

class Tile {
  constructor(grid, cam) {
    this.grid = grid;
    this.id = cam.id;
    this.cam = cam;
    this.session = null;
    this.failures = 0;
    this.timer = 0;
    this.disconnectTimer = 0;
    this.state = 'connecting'; // of the tile's session
    this.reason = '';
    this.camState = stateOf(cam); // of the camera itself
    const li = (this.el = document.createElement('li'));
    li.className = 'tile';
    li.dataset.id = cam.id;
    li.innerHTML = `
      <button type="button" class="tile-open">
        <video autoplay muted playsinline></video>
        <span class="state-overlay"></span>
        <span class="tile-bar"><span class="name"></span> <span class="badge"></span></span>
        <small class="why"></small>
      </button>`;
    this.video = li.querySelector('video');
    this.blind = new Blind(li, this.video, () => this.render());
    this.blind.show(this.camState);
    li.querySelector('button').addEventListener('click', () => grid.onOpen(this.id));
  }

  update(cam) {
    this.cam = cam;
    this.cameraState(stateOf(cam));
    this.render();
    // A camera that comes back online gets a tile session again.
    if (cam.state === 'streaming' && this.state === 'offline') this.start();
  }

  start() {
    clearTimeout(this.timer);
    clearTimeout(this.disconnectTimer);
    this.session?.close();
    this.session = null;
    this.blind.reset();
    this.blind.show(this.camState);
    if (this.cam.state === 'unsupported' || this.cam.state === 'disabled') { this.set('offline', this.cam.reason || this.cam.state); return; }
    this.set(this.failures ? 'retrying' : 'connecting', this.reason);
    const s = (this.session = new WsLiveSession(this.id, this.video, () => this.changed(s)));
    s.start().catch((err) => { if (!s.closed) this.retry(s, err.message); });
  }

  changed(s) {
    if (s !== this.session || s.closed) return;
    if (s.cameraState) this.cameraState(s.cameraState);
    const cs = s.pc?.connectionState;
    if (s.ttffMs !== null && this.state !== 'streaming' && cs !== 'disconnected' && cs !== 'failed') {
      this.failures = 0;
      this.reason = '';
      this.set('streaming');
    }
    if (cs === 'failed' || cs === 'closed') this.retry(s, 'the connection failed');
    else if (s.error) this.retry(s, s.error);
    clearTimeout(this.disconnectTimer);
    if (cs === 'disconnected') {
      this.set('retrying', 'the connection is interrupted');
      this.disconnectTimer = setTimeout(() => this.retry(s, 'the connection was interrupted'), DISCONNECTED_MS);
    } else if (cs === 'connected' && s.ttffMs !== null && this.state === 'retrying') {
      this.set('streaming');
    }
  }

  retry(s, reason) {
    if (s !== this.session || s.closed) return;
    s.close();
    this.session = null;
    const delay = backoff(this.failures++);
    this.reason = reason.replace(/\.$/, '');
    this.set(this.cam.state === 'streaming' ? 'retrying' : 'offline', `${this.reason}; again in ${delay / 1000} s`);
    this.timer = setTimeout(() => this.start(), delay);
  }

  // cameraState takes the camera's state from an event or the list,
  // unless it is older than the one the tile has.
  cameraState(st) {
    if (!newer(this.camState, st)) return;
    const known = this.camState;
    this.camState = st;
    this.blind.show(st);
    this.render();
    if (known?.state !== st.state || known?.reason !== st.reason) this.grid.onCameraState(this.id, st);
  }

  set(state, why = '') {
    this.state = state;
    this.why = why;
    this.render();
  }

  render() {
    const li = this.el;
    const name = this.cam.name || this.id;
    // The camera's own trouble comes first: the session is fine, but there
    // is nothing to see.
    const down = isDown(this.camState) ? this.camState : null;
    // A degraded camera streams: its badge says so while the session
    // plays, with the reason under it, and the picture stays.
    const degraded = !down && this.state === 'streaming' && isDegraded(this.camState) ? this.camState : null;
    const state = down ? down.state : degraded ? degraded.state : this.state;
    this.grid.status.tiles[this.id] = state;
    li.querySelector('.name').textContent = name;
    const badge = li.querySelector('.badge');
    badge.textContent = state;
    badge.className = `badge badge-${state}`;
    li.querySelector('.state-overlay').textContent = down ? describe(down) : '';
    li.querySelector('.why').textContent = degraded ? degraded.reason
      : !down && this.state !== 'streaming' ? this.why || this.cam.reason || '' : '';
    li.dataset.state = state;
    const why = (down ?? degraded)?.reason ? ` (${(down ?? degraded).reason})` : '';
    li.querySelector('button').setAttribute('aria-label', `${name}, ${state}${why}: open the camera`);
    this.video.setAttribute('aria-hidden', 'true');
  }

  stop() {
    clearTimeout(this.timer);
    clearTimeout(this.disconnectTimer);
    this.session?.close();
    this.session = null;
    this.video.srcObject = null;
    this.blind.reset(); // no reveal may follow: the tile is off
    this.failures = 0;
    delete this.grid.status.tiles[this.id];
  }
}

export class CameraGrid {
  #tiles = new Map();
  #active = false;

  // root is the <ul> of tiles; status the page's window.camgate (tiles:
  // camera id → tile state); onOpen(cameraId) opens the camera view;
  // onCameraState(cameraId, state) hears of a camera's state change a
  // tile's session was told of.
  constructor({ root, status, onOpen, onCameraState = () => {} }) {
    this.root = root;
    this.status = status;
    this.onOpen = onOpen;
    this.onCameraState = onCameraState;
    status.tiles = {};
  }

  get active() { return this.#active; }

  // show starts (or updates) the tiles of the cameras listed.
  show(cameras) {
    this.#active = true;
    const wanted = new Set(cameras.map((c) => c.id));
    for (const [id, tile] of this.#tiles) {
      if (!wanted.has(id)) { tile.stop(); tile.el.remove(); this.#tiles.delete(id); }
    }
    for (const cam of cameras) {
      let tile = this.#tiles.get(cam.id);
      if (!tile) {
        tile = new Tile(this, cam);
        this.#tiles.set(cam.id, tile);
        this.root.append(tile.el);
        tile.render();
        tile.start();
      } else {
        if (!tile.session && !tile.timer) tile.start();
        tile.update(cam);
      }
    }
  }

  // hide ends every tile session (the camera view has the stream alone).
  hide() {
    this.#active = false;
    for (const tile of this.#tiles.values()) { tile.stop(); tile.timer = 0; }
  }

  clear() {
    this.hide();
    for (const tile of this.#tiles.values()) tile.el.remove();
    this.#tiles.clear();
  }

  // reconnect starts every tile again at once: the gateway answers again
  // after it could not be reached, and may have restarted without the
  // tiles' sessions (whose connections look "connected" for seconds more).
  reconnect() {
    if (!this.#active) return;
    for (const tile of this.#tiles.values()) { tile.failures = Math.min(tile.failures, 1); tile.start(); }
  }

  // stats samples each tile's getStats for status.tileStats.
  async stats() {
    const out = {};
    for (const [id, tile] of this.#tiles) {
      if (tile.session && !tile.session.closed) out[id] = await tile.session.stats().catch(() => ({}));
    }
    return out;
  }
}
