// The timeline under the video: the camera's recorded spans of the last
// 24 hours (GET …/recordings), zoomable to 24 h, 1 h or 10 min. A click,
// or a drag released at a time, plays the recording from there (with the
// speed and skip-gaps choice of the playback controls); Shift+drag selects
// a range to export (GET …/recordings/export, fetched with the token and
// handed to the browser as a download). By keyboard: the arrows move a
// cursor, Enter plays from it, "[" and "]" set the range's ends.
import { api, download } from './api.js';

const ZOOMS = [['86400', '24 h'], ['3600', '1 h'], ['600', '10 min']];
const REFRESH_MS = 10_000;
const MAX_EXPORT_S = 3600;

const pad = (n) => String(n).padStart(2, '0');
const hms = (ms) => { const d = new Date(ms); return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`; };

export class Timeline {
  #root;
  #status;
  #playFrom;
  #els;
  #cameraId = null;
  #spans = []; // [{start, end}] in ms
  #zoomS = 3600;
  #cursor = null; // keyboard cursor, ms
  #sel = null; // {start, end} ms
  #timer = 0;
  #drag = null;

  #onSpans;

  // playFrom(Date) plays the recording from a time (playback.js);
  // onSpans(spans) hears of the spans of the camera shown, each time they
  // are loaded ([{start, end}] in ms, oldest first).
  constructor({ root, status, playFrom, onSpans = () => {} }) {
    this.#root = root;
    this.#status = status;
    this.#playFrom = playFrom;
    this.#onSpans = onSpans;
    status.timeline = null;
    this.#render();
    setInterval(() => this.#draw(), 1_000); // the window follows now and the frame clock
  }

  // show loads the spans of a camera (null: hide).
  show(cameraId) {
    clearTimeout(this.#timer);
    if (cameraId !== this.#cameraId) { this.#spans = []; this.#sel = null; this.#cursor = null; }
    this.#cameraId = cameraId;
    this.#root.hidden = !cameraId;
    if (cameraId) this.#load();
    else this.#status.timeline = null;
  }

  async #load() {
    clearTimeout(this.#timer);
    const id = this.#cameraId;
    if (!id) return;
    try {
      const r = await api('GET', `/API/rest/v1/cameras/${encodeURIComponent(id)}/recordings`);
      if (id !== this.#cameraId) return;
      this.#spans = (r?.spans ?? []).map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) }));
      this.#note('');
      this.#onSpans(this.#spans);
    } catch (err) {
      if (id !== this.#cameraId) return;
      this.#note(err.status === 403 ? 'You may not play recordings of this camera.' : `Cannot load the recordings: ${err.message}`);
    }
    this.#draw();
    this.#timer = setTimeout(() => this.#load(), REFRESH_MS);
  }

  // #window is the time range shown: it ends now, unless the playing frame
  // is further back than the window reaches, then it is centred on it.
  #window() {
    const now = Date.now();
    const len = this.#zoomS * 1000;
    let to = now;
    const shown = this.#status.playback ? this.#status.frameClock : null;
    if (shown !== null && shown !== undefined && shown < now - len * 0.9) to = Math.min(now, shown + len / 2);
    if (this.#cursor !== null && (this.#cursor < to - len || this.#cursor > to)) to = Math.min(now, this.#cursor + len / 2);
    return { from: to - len, to };
  }

  #render() {
    this.#root.innerHTML = `
      <div class="timeline-head">
        <span class="timeline-title">Recordings</span>
        <span class="timeline-zoom" role="group" aria-label="Zoom"></span>
        <button type="button" class="timeline-export" disabled>Export selection</button>
      </div>
      <div class="timeline-bar" tabindex="0" role="slider" aria-label="Timeline: arrows move, Enter plays, [ and ] select a range to export"
           aria-valuemin="0" aria-valuemax="100">
        <div class="timeline-spans"></div>
        <div class="timeline-sel" hidden></div>
        <div class="timeline-cursor" hidden></div>
        <div class="timeline-now" hidden></div>
      </div>
      <div class="timeline-scale"><span class="timeline-from"></span><span class="timeline-to"></span></div>
      <p class="timeline-note" role="status"></p>`;
    const q = (s) => this.#root.querySelector(s);
    this.#els = {
      bar: q('.timeline-bar'), spans: q('.timeline-spans'), sel: q('.timeline-sel'), cursor: q('.timeline-cursor'),
      now: q('.timeline-now'), from: q('.timeline-from'), to: q('.timeline-to'), note: q('.timeline-note'),
      exp: q('.timeline-export'), zoom: q('.timeline-zoom'),
    };
    for (const [s, label] of ZOOMS) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.dataset.zoom = s;
      b.setAttribute('aria-pressed', String(Number(s) === this.#zoomS));
      b.addEventListener('click', () => {
        this.#zoomS = Number(s);
        for (const o of this.#els.zoom.children) o.setAttribute('aria-pressed', String(o === b));
        this.#draw();
      });
      this.#els.zoom.append(b);
    }
    const bar = this.#els.bar;
    bar.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      bar.setPointerCapture(e.pointerId);
      this.#drag = { x: e.clientX, t: this.#timeAt(e.clientX), select: e.shiftKey, moved: false };
    });
    bar.addEventListener('pointermove', (e) => {
      const d = this.#drag;
      if (!d) return;
      if (Math.abs(e.clientX - d.x) > 4) d.moved = true;
      const t = this.#timeAt(e.clientX);
      if (d.select && d.moved) this.#select(d.t, t);
      else this.#cursor = t;
      this.#draw();
    });
    bar.addEventListener('pointerup', (e) => {
      const d = this.#drag;
      this.#drag = null;
      if (!d) return;
      const t = this.#timeAt(e.clientX);
      if (d.select && d.moved) { this.#select(d.t, t); this.#draw(); return; }
      this.#cursor = null;
      this.#play(t);
    });
    bar.addEventListener('pointercancel', () => { this.#drag = null; });
    bar.addEventListener('keydown', (e) => this.#key(e));
    this.#els.exp.addEventListener('click', () => this.#export());
  }

  #key(e) {
    const { from, to } = this.#window();
    const step = (to - from) / 100;
    const at = this.#cursor ?? (this.#status.playback ? this.#status.frameClock : null) ?? to - step * 10;
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      this.#cursor = Math.min(Date.now(), at + (e.key === 'ArrowLeft' ? -step : step) * (e.shiftKey ? 10 : 1));
    } else if (e.key === 'Enter' || e.key === ' ') {
      this.#play(at);
      this.#cursor = null;
    } else if (e.key === '[') {
      this.#select(at, this.#sel?.end ?? Math.min(Date.now(), at + 10_000));
    } else if (e.key === ']') {
      this.#select(this.#sel?.start ?? at - 10_000, at);
    } else if (e.key === 'Escape') {
      this.#sel = null;
      this.#cursor = null;
    } else {
      return;
    }
    e.preventDefault(); // Escape here does not also leave the camera view
    e.stopPropagation(); // the arrows steer PTZ elsewhere on the page
    this.#draw();
  }

  #timeAt(clientX) {
    const box = this.#els.bar.getBoundingClientRect();
    const { from, to } = this.#window();
    const f = Math.min(1, Math.max(0, (clientX - box.left) / box.width));
    return Math.min(Date.now(), from + f * (to - from));
  }

  #play(t) {
    this.#note('');
    this.#playFrom(new Date(Math.floor(t / 1000) * 1000));
  }

  #select(a, b) {
    const start = Math.min(a, b);
    const end = Math.min(Math.max(a, b), start + MAX_EXPORT_S * 1000);
    this.#sel = { start, end };
    this.#status.timelineSelection = { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
  }

  async #export() {
    const s = this.#sel;
    if (!s || !this.#cameraId) return;
    const seconds = Math.max(1, Math.round((s.end - s.start) / 1000));
    const path = `/API/rest/v1/cameras/${encodeURIComponent(this.#cameraId)}/recordings/export?start=${encodeURIComponent(new Date(s.start).toISOString())}&duration=${seconds}`;
    this.#els.exp.disabled = true;
    this.#note(`Exporting ${hms(s.start)}–${hms(s.end)}…`);
    try {
      const { blob, name } = await download(path);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
      this.#note(`Exported ${name} (${Math.round(blob.size / 1024)} KiB).`);
      this.#status.exported = { name, size: blob.size };
    } catch (err) {
      this.#note(`Cannot export: ${err.message}`);
    } finally {
      this.#els.exp.disabled = false;
    }
  }

  #note(text) { this.#els.note.textContent = text; }

  #draw() {
    if (!this.#cameraId || this.#root.hidden) return;
    const { from, to } = this.#window();
    const len = to - from;
    const pct = (t) => `${(((t - from) / len) * 100).toFixed(3)}%`;
    const wid = (a, b) => `${((Math.max(0, b - a) / len) * 100).toFixed(3)}%`;
    const els = this.#els;
    const frag = document.createDocumentFragment();
    for (const s of this.#spans) {
      if (s.end < from || s.start > to) continue;
      const a = Math.max(s.start, from);
      const b = Math.min(s.end, to);
      const div = document.createElement('div');
      div.className = 'timeline-span';
      div.style.left = pct(a);
      div.style.width = wid(a, b);
      div.title = `recorded ${hms(s.start)}–${hms(s.end)}`;
      frag.append(div);
    }
    els.spans.replaceChildren(frag);
    const place = (el, t) => {
      el.hidden = t === null || t === undefined || t < from || t > to;
      if (!el.hidden) el.style.left = pct(t);
    };
    place(els.now, this.#status.playback ? this.#status.frameClock : null);
    place(els.cursor, this.#cursor);
    const s = this.#sel;
    els.sel.hidden = !s;
    if (s) { els.sel.style.left = pct(Math.max(s.start, from)); els.sel.style.width = wid(Math.max(s.start, from), Math.min(s.end, to)); }
    els.exp.disabled = !s;
    els.exp.textContent = s ? `Export ${hms(s.start)}–${hms(s.end)}` : 'Export selection';
    els.from.textContent = hms(from);
    els.to.textContent = to >= Date.now() - 1500 ? 'now' : hms(to);
    const at = this.#cursor ?? (this.#status.playback ? this.#status.frameClock : null);
    els.bar.setAttribute('aria-valuenow', at ? String(Math.round(((at - from) / len) * 100)) : '100');
    els.bar.setAttribute('aria-valuetext', at ? hms(at) : 'live');
    this.#status.timeline = { from, to, spans: this.#spans.length };
  }
}
