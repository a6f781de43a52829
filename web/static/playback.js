// Playback of recorded video under the live view: "Play from" a time (a
// datetime-local input, or −1 min / −5 min), a speed, skip gaps, and "Back
// to live". The time is 2 minutes ago by default, moved inside the newest
// recording once the timeline has loaded the camera's spans (until the
// user picks a time). A new speed or gap mode applies at once: a new
// session from the frame on screen. The session itself is the same as for
// live (session.js / ws.js) with XProtect's playback parameters.
//
// The frame clock shows the time of the frame on screen the way the
// XProtect sample computes it: the session's reference time plus the
// frame's RTP timestamp from requestVideoFrameCallback, which camgate
// counts in milliseconds since the requested playback time (live: since
// the session started). The frames from the keyframe before the requested
// time come first as a fast-forward stamped from 0 up, so no frame is
// before it; the timestamp is read as signed (rtpTimestamp | 0) all the
// same, as the events' are. The gateway's playback events on the commands
// channel say when the recording has a gap and when it ends.

const SPEEDS = [['0.25', '¼×'], ['0.5', '½×'], ['1', '1×'], ['2', '2×'], ['4', '4×'], ['8', '8×'], ['16', '16×'], ['32', '32×']];
const DEFAULT_BACK_MS = 2 * 60_000;

const pad = (n, w = 2) => String(n).padStart(w, '0');

// localInputValue formats a Date for a datetime-local input (local time,
// seconds).
function localInputValue(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function clockText(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export class PlaybackControl {
  #root;
  #video;
  #status;
  #replay;
  #request = null; // null: live; else {time: Date, speed, skipGaps}
  #origin = 0; // the session's reference time, ms since the epoch
  #clockRate = 1000; // RTP ticks per second (playback events say)
  #shown = null; // time of the frame on screen, ms since the epoch
  #channel = null;
  #els;
  #picked = false; // the user chose the "Play from" time (keep it)

  // root is the <section> to fill; status the object tests read
  // (window.camgate); replay() starts a new session of the current camera.
  constructor({ root, video, status, replay }) {
    this.#root = root;
    this.#video = video;
    this.#status = status;
    this.#replay = replay;
    Object.assign(status, { playback: null, frameClock: null, playbackEvent: null });
    this.#render();
    this.#watchFrames();
  }

  // begin is called for every new session: it returns the playback request
  // for it (null for live) and starts the frame clock from its reference
  // time. A retry or a camera change during playback resumes from the frame
  // last shown, as the XProtect sample does on reconnect.
  begin() {
    if (this.#request && this.#shown !== null) this.#request.time = new Date(this.#shown);
    const r = this.#request;
    this.#origin = r ? r.time.getTime() : Date.now();
    this.#clockRate = 1000;
    this.#shown = null;
    this.#channel = null;
    this.#status.frameClock = null;
    this.#status.playbackEvent = null;
    this.#status.playback = r ? { time: r.time.toISOString(), speed: r.speed, skipGaps: r.skipGaps } : null;
    this.#els.mode.textContent = r ? `Recorded · ${this.#speedLabel(r.speed)}` : 'Live';
    this.#els.clock.textContent = '–';
    this.#note('');
    this.#els.live.disabled = !r;
    return r ? { time: r.time, speed: r.speed, skipGaps: r.skipGaps } : null;
  }

  // watch listens for playback events once the session's commands channel
  // exists (app.js calls it whenever the session changes).
  watch(session) {
    const ch = session?.channel;
    if (!ch || ch === this.#channel) return;
    this.#channel = ch;
    ch.addEventListener('message', (e) => { if (ch === this.#channel) this.#onMessage(e.data); });
  }

  // refused reports whether a failed start is a playback request the
  // gateway refused (no recording there, a bad parameter, no right): the
  // page shows why instead of retrying.
  refused(err) {
    const code = err?.status ?? err?.code;
    if (!this.#request || !(code >= 400 && code < 500) || code === 401 || code === 408) return false;
    this.#note(err.message);
    return true;
  }

  #render() {
    const root = this.#root;
    root.innerHTML = `
      <p class="clock"><span class="clock-mode"></span> <output class="frame-clock" aria-live="off">–</output></p>
      <form class="playback-controls">
        <label>Play from <input type="datetime-local" step="1" name="from" required></label>
        <button type="button" data-back="60">−1 min</button>
        <button type="button" data-back="300">−5 min</button>
        <label>Speed <select name="speed"></select></label>
        <label class="check"><input type="checkbox" name="skipGaps"> Skip gaps</label>
        <button type="submit">Play</button>
        <button type="button" class="to-live" disabled>Back to live</button>
      </form>
      <p class="playback-note" role="status"></p>`;
    const form = root.querySelector('form');
    const speed = form.elements.speed;
    for (const [value, label] of SPEEDS) speed.add(new Option(label, value, value === '1', value === '1'));
    this.#els = {
      form,
      from: form.elements.from,
      speed,
      skip: form.elements.skipGaps,
      live: root.querySelector('.to-live'),
      mode: root.querySelector('.clock-mode'),
      clock: root.querySelector('.frame-clock'),
      note: root.querySelector('.playback-note'),
    };
    this.#els.from.value = localInputValue(new Date(Date.now() - DEFAULT_BACK_MS));
    this.#els.from.addEventListener('input', () => { this.#picked = true; });
    // A new speed or gap mode while a recording plays applies at once: a
    // new session from the frame on screen (begin resumes from it).
    for (const el of [speed, this.#els.skip]) {
      el.addEventListener('change', () => {
        if (!this.#request) return;
        Object.assign(this.#request, { speed: Number(speed.value), skipGaps: this.#els.skip.checked });
        this.#replay();
      });
    }
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const t = new Date(this.#els.from.value); // datetime-local: local time
      if (Number.isNaN(t.getTime())) { this.#note('Choose a date and time to play from.'); return; }
      this.#play(t);
    });
    for (const b of form.querySelectorAll('[data-back]')) {
      b.addEventListener('click', () => {
        const t = new Date(Date.now() - Number(b.dataset.back) * 1000);
        this.#els.from.value = localInputValue(t);
        this.#play(t);
      });
    }
    this.#els.live.addEventListener('click', () => {
      this.#request = null;
      this.#replay();
    });
  }

  // playFrom plays the recording from a time with the speed and gap mode
  // chosen here (the timeline calls it).
  playFrom(time) {
    this.#els.from.value = localInputValue(time);
    this.#play(time);
  }

  // recorded takes the camera's recorded spans ([{start, end}] ms, oldest
  // first): unless the user chose a time, "Play from" becomes one inside
  // the newest recording, 2 minutes before its end or its start if it is
  // shorter, never in a gap or before the first recording.
  recorded(spans) {
    if (this.#picked || !spans.length) return;
    const { start, end } = spans[spans.length - 1];
    // Whole seconds (the input's step), not after the end.
    const t = Math.max(Math.ceil(start / 1000) * 1000, Math.floor((end - DEFAULT_BACK_MS) / 1000) * 1000);
    if (t <= end) this.#els.from.value = localInputValue(new Date(t));
  }

  #play(time) {
    this.#picked = true; // the input shows the time played from now on
    this.#request = { time, speed: Number(this.#els.speed.value), skipGaps: this.#els.skip.checked };
    this.#shown = null; // a new choice, not a resume
    this.#replay();
  }

  #speedLabel(speed) {
    return SPEEDS.find(([v]) => Number(v) === speed)?.[1] ?? `${speed}×`;
  }

  #note(text) {
    this.#els.note.textContent = text;
  }

  // #watchFrames runs the frame clock: every frame presented gets its
  // recorded (or live) time from its RTP timestamp.
  #watchFrames() {
    const v = this.#video;
    if (!('requestVideoFrameCallback' in v)) {
      this.#els.clock.textContent = 'needs requestVideoFrameCallback';
      return;
    }
    const onFrame = (_now, meta) => {
      if (meta.rtpTimestamp !== undefined && v.srcObject) {
        // Read as signed, as camgate's events are; no frame is below 0.
        const ms = ((meta.rtpTimestamp | 0) * 1000) / this.#clockRate;
        this.#shown = this.#origin + ms;
        this.#status.frameClock = this.#shown;
        this.#els.clock.textContent = clockText(this.#shown);
      }
      v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
  }

  // #onMessage takes the gateway's messages on the commands channel; only
  // playback events concern this module (ptz.js reads the replies).
  #onMessage(data) {
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      return;
    }
    if (m?.type !== 'event' || m.event !== 'playback' || !this.#request) return;
    const e = m.params ?? {};
    if (e.clockRate) this.#clockRate = e.clockRate;
    this.#status.playbackEvent = e.kind;
    const at = (s) => (s ? clockText(Date.parse(s)) : '');
    switch (e.kind) {
      case 'gap':
        this.#note(this.#request.skipGaps
          ? `No recording from ${at(e.time)} to ${at(e.until)}: skipped.`
          : `No recording from ${at(e.time)} to ${at(e.until)}: waiting.`);
        break;
      case 'resume':
      case 'start':
        this.#note('');
        break;
      case 'end':
        this.#note(`End of the recordings at ${at(e.time)}. Choose another time, or go back to live.`);
        break;
      case 'error':
        this.#note(e.message || 'The recording cannot be read.');
        break;
    }
  }
}
