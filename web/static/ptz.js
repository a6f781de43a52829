// The PTZ pad: steers the playing camera over the session's
// "videoos-commands" data channel with the requests of docs/ptz.md, and
// shows where the camera points.
//
// - Directions and zoom move while held: ptzMove is sent again every 200 ms
//   (the gateway stops the camera 400 ms after the last one, so a lost
//   "stop" is harmless) and "stop" goes out on release. A hold belongs to
//   what started it (a button, the arrow keys, a zoom key): only its own
//   release, or losing focus, ends it. Pressing a second button right after
//   another moves the focus, and the first one's blur comes after the
//   second one's press: it must not stop the new move.
// - With the video focused: arrow keys (two at once for the diagonals),
//   + and − zoom, Home; a click on the video centres that point (ptzCenter).
// - The position is polled with ptzStatus twice a second while the pad is
//   shown.
// - The demo's simulated camera has no real head, so the page moves the
//   picture itself: a CSS transform of the <video> (zoom → scale, pan/tilt →
//   translate, clipped by its container) stands in for the camera turning.
import { api } from './api.js';

const POLL_MS = 500; // ptzStatus while the pad is shown
const REPEAT_MS = 200; // ptzMove while a button or key is held
const REPLY_TIMEOUT_MS = 5_000;

// [direction, symbol, label] in the pad's 3×3 grid; the centre is home.
const GRID = [
  ['upLeft', '↖', 'Up left'], ['up', '↑', 'Up'], ['upRight', '↗', 'Up right'],
  ['left', '←', 'Left'], ['home', '⌂', 'Home'], ['right', '→', 'Right'],
  ['downLeft', '↙', 'Down left'], ['down', '↓', 'Down'], ['downRight', '↘', 'Down right'],
];
const ARROWS = { ArrowUp: 'up', ArrowDown: 'down', ArrowLeft: 'left', ArrowRight: 'right' };
const ZOOM_KEYS = { '+': 'zoomIn', '=': 'zoomIn', '-': 'zoomOut', _: 'zoomOut' };

const fmt = (n, digits = 1) => (n < 0 ? '−' : '') + Math.abs(n).toFixed(digits);

export class PtzPad {
  #root;
  #viewport;
  #video;
  #getSession;
  #out; // what window.camgate.ptz shows
  #generation = 0; // bumped by show(): late answers of an older camera are dropped
  #cameraId = null;
  #info = null; // GET …/ptz
  #channel = null;
  #pending = new Map(); // request id → {resolve, reject, timer}
  #nextId = 1;
  #pollTimer = 0;
  #polling = false; // a ptzStatus is on its way
  #soon = false; // sample again soon after it
  #holding = null; // the direction held
  #holder = null; // what holds it: a pad button, 'keys' (arrows) or 'zoomKey'
  #holdTimer = 0;
  #keys = new Set();
  #el = {};

  // root: the (empty, hidden) element the pad is built in; viewport: the
  // element that clips the video; getSession: the playing session (with
  // its "channel"); status: the object tests read (window.camgate).
  constructor({ root, viewport, video, getSession, status }) {
    this.#root = root;
    this.#viewport = viewport;
    this.#video = video;
    this.#getSession = getSession;
    this.#out = status.ptz = { shown: false };
    this.#build();
    this.#bindViewport();
  }

  // cameraId is the camera the pad was last shown for (null: hidden).
  get cameraId() { return this.#cameraId; }

  // show(cameraId) shows the pad for that camera when it has PTZ (the
  // answer of GET …/ptz), and hides it for null or a camera without.
  async show(cameraId) {
    const gen = ++this.#generation;
    this.#release();
    this.#cameraId = cameraId;
    this.#info = null;
    this.#root.hidden = true;
    this.#viewport.removeAttribute('tabindex');
    this.#viewport.removeAttribute('aria-describedby');
    this.#video.style.transform = '';
    for (const k of Object.keys(this.#out)) delete this.#out[k];
    this.#out.shown = false;
    if (!cameraId) return;
    let info;
    try {
      info = await api('GET', `/API/rest/v1/cameras/${encodeURIComponent(cameraId)}/ptz`);
    } catch {
      return; // no PTZ for us on this camera: no pad
    }
    if (gen !== this.#generation) return;
    this.#info = info;
    Object.assign(this.#out, { shown: true, cameraId, driver: info.driver, mayControl: info.mayControl, error: null });
    this.#render(info);
    if (info.status) this.#renderStatus(info.status);
    this.#renderPresets(info.presets ?? []);
    this.#root.hidden = false;
    if (info.mayControl) {
      this.#viewport.tabIndex = 0;
      this.#viewport.setAttribute('aria-describedby', 'ptz-help');
    }
    this.#poll(gen);
  }

  // ---- building ----

  #build() {
    const r = this.#root;
    r.innerHTML = `
      <h3 class="ptz-title">PTZ</h3>
      <div class="ptz-controls">
        <div class="ptz-grid" role="group" aria-label="Pan and tilt"></div>
        <div class="ptz-zoom" role="group" aria-label="Zoom">
          <button type="button" data-hold="zoomIn" aria-label="Zoom in">+</button>
          <button type="button" data-hold="zoomOut" aria-label="Zoom out">−</button>
        </div>
        <div class="ptz-aux" role="group" aria-label="Auxiliary outputs"></div>
        <div class="ptz-presets">
          <label for="ptz-preset">Preset</label>
          <select id="ptz-preset"></select>
          <button type="button" id="ptz-goto">Go</button>
        </div>
      </div>
      <output id="ptz-position" class="ptz-position" aria-live="off"></output>
      <p id="ptz-note" class="ptz-note" role="status" aria-live="polite"></p>
      <p id="ptz-help" class="ptz-help">Hold a direction to move. With the video focused: arrow keys, + and −, Home; click the video to centre a point.</p>`;
    const grid = r.querySelector('.ptz-grid');
    for (const [dir, symbol, label] of GRID) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = symbol;
      b.setAttribute('aria-label', label);
      b.dataset.dir = dir;
      if (dir === 'home') b.addEventListener('click', () => this.#send('ptzMove', { direction: 'home' }, true));
      else b.dataset.hold = dir;
      grid.append(b);
    }
    for (const b of r.querySelectorAll('[data-hold]')) this.#bindHold(b, b.dataset.hold);
    this.#el = {
      aux: r.querySelector('.ptz-aux'),
      presets: r.querySelector('.ptz-presets'),
      preset: r.querySelector('#ptz-preset'),
      position: r.querySelector('#ptz-position'),
      note: r.querySelector('#ptz-note'),
      help: r.querySelector('#ptz-help'),
      controls: r.querySelector('.ptz-controls'),
    };
    r.querySelector('#ptz-goto').addEventListener('click', () => {
      const token = this.#el.preset.value;
      if (token) this.#send('ptzGotoPreset', { token }, true);
    });
  }

  // #bindHold makes a button move while held: by pointer (mouse, touch,
  // pen) or by Space/Enter.
  #bindHold(button, direction) {
    const end = () => this.#stopHold(button);
    button.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      // The pointer (a finger too: touch-action is none on the pad's
      // buttons, so a held finger does not scroll and is not cancelled)
      // keeps the button even when it slides off.
      button.setPointerCapture(e.pointerId);
      this.#startHold(direction, button);
    });
    button.addEventListener('pointerup', end);
    button.addEventListener('pointercancel', end);
    button.addEventListener('lostpointercapture', end);
    button.addEventListener('keydown', (e) => {
      if (e.key !== ' ' && e.key !== 'Enter') return;
      e.preventDefault();
      if (!e.repeat) this.#startHold(direction, button);
    });
    button.addEventListener('keyup', (e) => {
      if (e.key === ' ' || e.key === 'Enter') { e.preventDefault(); end(); }
    });
    button.addEventListener('blur', end);
    button.addEventListener('contextmenu', (e) => e.preventDefault()); // long press on a phone
  }

  #bindViewport() {
    const v = this.#viewport;
    const usable = () => this.#info?.mayControl;
    v.addEventListener('keydown', (e) => {
      if (!usable() || e.altKey || e.ctrlKey || e.metaKey) return;
      if (ARROWS[e.key]) {
        e.preventDefault();
        this.#keys.add(ARROWS[e.key]);
        this.#followKeys();
      } else if (ZOOM_KEYS[e.key]) {
        e.preventDefault();
        if (!e.repeat) this.#startHold(ZOOM_KEYS[e.key], 'zoomKey');
      } else if (e.key === 'Home') {
        e.preventDefault();
        if (!e.repeat) this.#send('ptzMove', { direction: 'home' }, true);
      }
    });
    v.addEventListener('keyup', (e) => {
      if (ARROWS[e.key]) {
        this.#keys.delete(ARROWS[e.key]);
        this.#followKeys();
      } else if (ZOOM_KEYS[e.key]) {
        this.#stopHold('zoomKey');
      }
    });
    v.addEventListener('blur', () => {
      this.#keys.clear();
      this.#stopHold('keys');
      this.#stopHold('zoomKey');
    });
    v.addEventListener('click', (e) => {
      if (!usable() || !this.#info.capabilities?.methods?.includes('ptzCenter')) return;
      const p = this.#pictureAt(e.clientX, e.clientY);
      if (p) this.#send('ptzCenter', p, true);
    });
  }

  // #followKeys turns the arrow keys held into a direction.
  #followKeys() {
    const k = this.#keys;
    const v = (k.has('up') ? 1 : 0) - (k.has('down') ? 1 : 0);
    const h = (k.has('right') ? 1 : 0) - (k.has('left') ? 1 : 0);
    const dir = { '1,0': 'up', '-1,0': 'down', '0,-1': 'left', '0,1': 'right',
      '1,-1': 'upLeft', '1,1': 'upRight', '-1,-1': 'downLeft', '-1,1': 'downRight' }[`${v},${h}`];
    if (dir) this.#startHold(dir, 'keys');
    else this.#stopHold('keys');
  }

  // #pictureAt is the point of the camera's picture under the pointer, in
  // normalized coordinates ((0,0) top left), or null outside it. The
  // viewport is the camera's view (the video may be letterboxed in it).
  #pictureAt(x, y) {
    const r = this.#viewport.getBoundingClientRect();
    const vw = this.#video.videoWidth || 16;
    const vh = this.#video.videoHeight || 9;
    const s = Math.min(r.width / vw, r.height / vh);
    const w = vw * s;
    const h = vh * s;
    const px = (x - r.left - (r.width - w) / 2) / w;
    const py = (y - r.top - (r.height - h) / 2) / h;
    if (!(px >= 0 && px <= 1 && py >= 0 && py <= 1)) return null;
    return { x: Math.round(px * 1000) / 1000, y: Math.round(py * 1000) / 1000 };
  }

  // ---- rendering ----

  #render(info) {
    const caps = info.capabilities ?? {};
    const dirs = new Set(caps.directions ?? []);
    for (const b of this.#root.querySelectorAll('[data-dir], [data-hold]')) {
      const d = b.dataset.dir ?? b.dataset.hold;
      b.disabled = !info.mayControl || !dirs.has(d);
    }
    const aux = this.#el.aux;
    aux.replaceChildren();
    for (const n of caps.aux ?? []) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = `Aux ${n}`;
      b.dataset.aux = String(n);
      b.setAttribute('aria-pressed', 'false');
      b.disabled = !info.mayControl;
      b.addEventListener('click', () => {
        const on = b.getAttribute('aria-pressed') !== 'true';
        this.#send('setAux', { auxNumber: String(n), on }, true).then((ok) => {
          if (ok) b.setAttribute('aria-pressed', String(on));
        });
      });
      aux.append(b);
    }
    aux.hidden = !(caps.aux ?? []).length;
    this.#el.presets.hidden = !caps.presets;
    this.#el.help.hidden = !info.mayControl;
    this.#note(info.mayControl ? '' : 'You may watch this camera but not steer it (no ptz right).');
  }

  #renderPresets(presets) {
    const sel = this.#el.preset;
    const was = sel.value;
    sel.replaceChildren(...presets.map((p) => new Option(p.name || p.token, p.token)));
    if (presets.some((p) => p.token === was)) sel.value = was;
    sel.disabled = !this.#info?.mayControl || !presets.length;
    this.#root.querySelector('#ptz-goto').disabled = sel.disabled;
  }

  #renderStatus(st) {
    const o = this.#out;
    Object.assign(o, {
      pan: st.pan ?? null, tilt: st.tilt ?? null, zoom: st.zoom ?? null,
      panDegrees: st.panDegrees ?? null, tiltDegrees: st.tiltDegrees ?? null,
      moving: st.moving || st.moveStatus === 'moving', control: st.control ?? null,
    });
    const parts = [];
    if (st.panDegrees !== undefined) parts.push(`pan ${fmt(st.panDegrees)}°`);
    else if (st.pan !== undefined) parts.push(`pan ${fmt(st.pan, 3)}`);
    if (st.tiltDegrees !== undefined) parts.push(`tilt ${fmt(st.tiltDegrees)}°`);
    else if (st.tilt !== undefined) parts.push(`tilt ${fmt(st.tilt, 3)}`);
    if (st.zoom !== undefined) parts.push(`zoom ${fmt(this.#magnification(st.zoom))}×`);
    if (o.moving) parts.push('moving');
    if (st.control?.held && !st.control.yours) parts.push('another operator steers');
    for (const b of this.#el.aux.querySelectorAll('[data-aux]')) {
      const on = st.aux?.[b.dataset.aux];
      if (on !== undefined) b.setAttribute('aria-pressed', String(on));
    }
    if (this.#info?.driver === 'simulated') this.#moveStandIn(st, parts);
    this.#el.position.textContent = parts.join(' · ') || 'position unknown';
  }

  #magnification(zoom) {
    const ratio = this.#info?.geometry?.zoomRatio ?? 1;
    return 1 + zoom * (ratio - 1);
  }

  // #moveStandIn moves the picture as the simulated camera would see the
  // world if the demo clip were all of it: zoom scales it by the lens's
  // magnification, and pan and tilt shift it by their angle over the
  // widest field of view (so that click-to-center lands where it should).
  // Beyond the clip there is nothing: the container shows black.
  #moveStandIn(st, parts) {
    const g = this.#info.geometry ?? {};
    const m = this.#magnification(st.zoom ?? 0);
    const tx = -((st.panDegrees ?? 0) / (g.horizontalFov || 60)) * 100;
    const ty = ((st.tiltDegrees ?? 0) / (g.verticalFov || 36)) * 100;
    const transform = `scale(${m.toFixed(3)}) translate(${tx.toFixed(2)}%, ${ty.toFixed(2)}%)`;
    this.#video.style.transform = transform;
    this.#out.transform = transform;
    if (Math.abs(tx) > 100 || Math.abs(ty) > 100) parts.push('the demo picture is out of view: press Home');
  }

  #note(text) {
    this.#el.note.textContent = text;
    this.#out.error = text || null;
  }

  // ---- commands ----

  // #startHold moves in direction until holder lets go (#stopHold(holder));
  // a new hold takes over from the one before, whoever held it.
  #startHold(direction, holder) {
    if (!this.#info?.mayControl) return;
    this.#holder = holder;
    if (this.#holding === direction) return;
    this.#holding = direction;
    this.#out.held = direction;
    clearInterval(this.#holdTimer);
    const send = () => this.#send('ptzMove', { direction });
    send();
    this.#holdTimer = setInterval(send, REPEAT_MS);
  }

  // #stopHold ends the hold when holder holds it (no holder: any hold).
  #stopHold(holder) {
    if (!this.#holding || (holder !== undefined && holder !== this.#holder)) return;
    this.#holding = null;
    this.#holder = null;
    this.#out.held = null;
    clearInterval(this.#holdTimer);
    this.#send('ptzMove', { direction: 'stop' });
  }

  // #release forgets the camera: a held move ends, waiting requests fail
  // quietly, polling stops.
  #release() {
    this.#stopHold();
    this.#keys.clear();
    clearTimeout(this.#pollTimer);
    this.#polling = false;
    this.#soon = false;
    for (const p of this.#pending.values()) { clearTimeout(p.timer); p.resolve(null); }
    this.#pending.clear();
  }

  // #send sends a command and shows its error; it resolves to true when
  // the command was carried out. refresh asks for the position right after.
  async #send(method, params, refresh = false) {
    const gen = this.#generation;
    try {
      await this.#request(method, params);
      if (gen === this.#generation) {
        if (this.#out.error && this.#info?.mayControl) this.#note('');
        if (refresh) this.#pollSoon(gen);
      }
      return true;
    } catch (err) {
      if (gen === this.#generation) this.#note(err.message);
      return false;
    }
  }

  // #request sends one request on the data channel and resolves with its
  // result (rejects with the error reply's message). Requests carry an id
  // so that their replies can be told apart.
  #request(method, params) {
    const ch = this.#openChannel();
    if (!ch) return Promise.reject(new Error('The command channel is not open yet.'));
    const id = `ptz-${this.#nextId++}`;
    const msg = { ApiVersion: '1.0', type: 'request', method, id };
    if (params) msg.params = params;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: the gateway did not answer.`));
      }, REPLY_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        ch.send(JSON.stringify(msg));
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(err);
      }
    });
  }

  #openChannel() {
    const ch = this.#getSession()?.channel;
    if (!ch || ch.readyState !== 'open') return null;
    if (ch !== this.#channel) {
      this.#channel = ch;
      ch.addEventListener('message', (e) => this.#onReply(ch, e.data));
    }
    return ch;
  }

  #onReply(ch, data) {
    if (ch !== this.#channel || typeof data !== 'string') return;
    let r;
    try {
      r = JSON.parse(data);
    } catch {
      return;
    }
    const p = this.#pending.get(r?.id);
    if (!p) return;
    this.#pending.delete(r.id);
    clearTimeout(p.timer);
    if (r.error) p.reject(new Error(r.error.message || r.error.data?.reason || 'PTZ error'));
    else p.resolve(r.result ?? {});
  }

  // ---- position ----

  // #poll samples ptzStatus, then again POLL_MS later (sooner after a
  // command: #pollSoon); one sample at a time.
  #poll(gen) {
    clearTimeout(this.#pollTimer);
    if (gen !== this.#generation) return;
    if (this.#polling) { this.#soon = true; return; }
    const again = () => {
      this.#polling = false;
      if (gen !== this.#generation) return;
      const delay = this.#soon ? 100 : POLL_MS;
      this.#soon = false;
      this.#pollTimer = setTimeout(() => this.#poll(gen), delay);
    };
    if (!this.#info?.capabilities?.status || !this.#openChannel()) { again(); return; }
    this.#polling = true;
    this.#request('ptzStatus').then(
      (st) => { if (st && gen === this.#generation) this.#renderStatus(st); },
      () => {}, // a missed sample: the next one will tell
    ).finally(again);
  }

  #pollSoon(gen) {
    if (this.#polling) { this.#soon = true; return; }
    clearTimeout(this.#pollTimer);
    this.#pollTimer = setTimeout(() => this.#poll(gen), 100);
  }
}
