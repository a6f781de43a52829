// What a live view is once its peer connection exists, whichever way it was
// signaled: REST (session.js) and WebSocket (ws.js) differ only in how the
// offer, answer and candidates travel, so the page can use either.
import { api } from './api.js';
import { readStats } from './stats.js';

export const BASE = '/API/REST/v1/WebRTC';

// PeerSession holds the fields the page reads (id, pc, channel, ttffMs,
// closed), the stats and the end of a view. A subclass signals: it sets id
// and pc, passes ontrack to showTrack, and calls deleteSession when the
// session turns out to exist only after close().
export class PeerSession {
  #closed = false;
  #frameCallback = 0;
  #statsPrev = {}; // bytes and time of the last sample, for the bitrate

  // onChange is called whenever a state worth showing changes. playback,
  // if set, asks for recorded video: {time: Date, speed, skipGaps}.
  constructor(deviceId, video, onChange, { playback = null } = {}) {
    this.deviceId = deviceId;
    this.playback = playback;
    this.video = video;
    this.onChange = onChange;
    this.id = null;
    this.pc = null;
    this.channel = null; // "videoos-commands": PTZ requests (ptz.js)
    this.ttffMs = null;
    // The camera's state as the gateway last told it (cameraState events,
    // docs/api.md): {state, cause, reason, since}; null until one comes.
    this.cameraState = null;
  }

  get closed() { return this.#closed; }

  // close ends the view. The DELETE (camgate's own, for an immediate end)
  // goes first and the peer connection closes once it is answered: closing
  // first lets the gateway see the peer leave, drop the session, and answer
  // the DELETE with a 404 that the browser logs as an error. XProtect itself
  // has no DELETE (it notices the closed connection), so a failed DELETE is
  // ignored.
  close() {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#frameCallback) this.video.cancelVideoFrameCallback?.(this.#frameCallback);
    const pc = this.pc;
    this.deleteSession().finally(() => pc?.close());
  }

  // watchChannel listens for the gateway's cameraState events on the
  // commands channel: the camera failed, or came back.
  watchChannel(ch) {
    ch.addEventListener('message', (e) => {
      let m;
      try {
        m = JSON.parse(e.data);
      } catch {
        return;
      }
      if (m?.type === 'event' && m.event === 'cameraState' && m.params) this.setCameraState(m.params);
    });
  }

  // setCameraState takes a cameraState event's params (data channel or
  // WebSocket notification; both may bring the same one).
  setCameraState(p) {
    if (this.#closed || typeof p.state !== 'string') return;
    this.cameraState = { state: p.state, cause: p.cause ?? '', reason: p.reason ?? '', since: p.since ?? '' };
    this.onChange();
  }

  // stats returns the inbound video numbers of the last second.
  async stats() {
    if (!this.pc || this.#closed) return {};
    return readStats(this.pc, this.#statsPrev);
  }

  // deleteSession never rejects: see close.
  async deleteSession() {
    if (this.id) await api('DELETE', `${BASE}/Session/${this.id}`).catch(() => {});
  }

  // showTrack takes the peer connection's ontrack; t0 is when the view
  // started asking for the session, so ttffMs covers the signaling too.
  showTrack(e, t0) {
    if (e.track.kind !== 'video' || this.#closed) return;
    this.#frameCallback = attachVideo(this.video, e, t0, (ms) => {
      if (this.#closed || this.ttffMs !== null) return;
      this.ttffMs = ms;
      this.onChange();
    });
  }
}

// attachVideo returns the requestVideoFrameCallback handle, or 0 where the
// browser has none and the video's 'playing' event stands in for the first
// frame.
function attachVideo(video, e, t0, firstFrame) {
  video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
  if ('requestVideoFrameCallback' in video) {
    return video.requestVideoFrameCallback((now) => firstFrame(Math.round(now - t0)));
  }
  video.addEventListener('playing', () => firstFrame(Math.round(performance.now() - t0)), { once: true });
  return 0;
}
