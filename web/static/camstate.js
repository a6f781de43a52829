// A camera's own state (docs/cameras.md, "Camera states") as the console
// shows it: the gateway says it in the cameras list (every few seconds) and
// in cameraState events (within a second). A camera that is not streaming
// must not leave its last picture on screen, where a frozen frame would
// look like a quiet scene: the video is hidden and the state and reason
// shown over it until a new frame has been drawn.

const DOWN = new Set(['reconnecting', 'offline', 'unsupported']);

// isDown reports a state in which the camera sends no video.
export const isDown = (st) => Boolean(st) && DOWN.has(st.state);

// isDegraded reports a camera that streams but sends something browsers
// play badly (B-frames): the video stays, the reason is shown beside it.
export const isDegraded = (st) => Boolean(st) && st.state === 'degraded';

// stateOf takes the state fields of a cameras-list entry or an event.
export const stateOf = (o) => ({ state: o.state, cause: o.cause ?? '', reason: o.reason ?? '', since: o.since ?? '' });

// newer reports whether state b should replace a: a list fetched before an
// event may arrive after it, and must not undo it.
export function newer(a, b) {
  if (!a) return true;
  const ta = Date.parse(a.since);
  const tb = Date.parse(b.since);
  return Number.isNaN(ta) || Number.isNaN(tb) || tb >= ta;
}

// describe is the line shown over the hidden video (or beside a degraded
// one).
export function describe(st) {
  const what = {
    degraded: 'Camera degraded', reconnecting: 'Reconnecting', offline: 'Camera offline', unsupported: 'Camera not supported',
  }[st.state] ?? st.state;
  return st.reason ? `${what}: ${st.reason}` : what;
}

// Blind hides a video (element.classList 'stale') while its camera is down
// and after it, until the video has drawn a frame that came after the
// camera returned.
export class Blind {
  #el;
  #video;
  #onChange;
  #mode = 'shown'; // shown | down | revealing (back, waiting for a new frame)

  constructor(el, video, onChange = () => {}) {
    this.#el = el;
    this.#video = video;
    this.#onChange = onChange;
  }

  get hidden() { return this.#mode !== 'shown'; }

  // show hides or reveals the video for the camera state st (null: not
  // known, nothing to hide).
  show(st) {
    if (isDown(st)) {
      this.#mode = 'down';
      this.#el.classList.add('stale');
    } else if (this.#mode === 'down') {
      // Back: the picture on screen is still the old one until the next
      // frame is drawn.
      this.#mode = 'revealing';
      const reveal = () => {
        if (this.#mode !== 'revealing') return;
        this.#mode = 'shown';
        this.#el.classList.remove('stale');
        this.#onChange();
      };
      if ('requestVideoFrameCallback' in this.#video) this.#video.requestVideoFrameCallback(reveal);
      else this.#video.addEventListener('timeupdate', reveal, { once: true });
    }
  }

  // reset forgets the camera state: a new session starts without a picture.
  reset() {
    this.#mode = 'shown';
    this.#el.classList.remove('stale');
  }
}
