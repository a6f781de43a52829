// One live view signaled over XProtect's WebSocket API (2025 R1+), as the
// official sample's websocket.js does: register (id 1) with the token,
// connect (id 2 and up) → result {session}, then the gateway's invite with
// the offer, our answer as the invite's result, and trickle notifications
// both ways. One socket carries every view of the page. Chosen with
// ?signaling=ws; REST (session.js) is the default.
import { PeerSession } from './peer.js';
import * as auth from './auth.js';

const PATH = '/API/ws/webrtc/v1';
const REQUEST_TIMEOUT_MS = 10_000;

// Signaling is the page's socket: opened on first use, registered with the
// current token, re-registered when the token is refreshed (which renews
// every session on it), reopened after a drop.
class Signaling {
  #ws = null;
  #opening = null; // promise of a registered socket
  #nextId = 2;
  #pending = new Map(); // request id → {resolve, reject, timer}
  #views = new Map(); // session id → WsLiveSession
  #early = new Map(); // session id → messages that came before the view knew its id
  #token = null;

  // ready resolves once the socket is open and registered.
  ready() {
    this.#opening ??= this.#open().catch((err) => {
      this.close();
      // As api() does: a refused token means signing in again.
      if (err.code === 401) auth.signOut();
      throw err;
    });
    return this.#opening;
  }

  async #open() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = (this.#ws = new WebSocket(`${scheme}//${location.host}${PATH}`));
    ws.onmessage = (e) => this.#dispatch(e.data);
    ws.onclose = () => this.#dropped(ws);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error('the signaling socket could not be opened'));
    });
    ws.onerror = null;
    // The sample's register: id 1, the raw token.
    this.#token = auth.accessToken();
    await this.#call(1, 'register', { authorization: this.#token });
  }

  // request sends a request and resolves with its result, or rejects with
  // an Error carrying the gateway's message and code.
  async request(method, params) {
    await this.ready();
    return this.#call(this.#nextId++, method, params);
  }

  #call(id, method, params) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`no answer to ${method} within ${REQUEST_TIMEOUT_MS / 1000} s`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      this.#send({ jsonrpc: '2.0', method, params, id });
    });
  }

  notify(method, params) { this.#send({ jsonrpc: '2.0', method, params }); }

  respond(id, result) { this.#send({ jsonrpc: '2.0', result, id }); }

  #send(msg) {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(msg));
  }

  // attach routes a session's invite, trickles and errors to its view.
  attach(session, view) {
    this.#views.set(session, view);
    for (const m of this.#early.get(session) ?? []) view.onSignal(m);
    this.#early.delete(session);
  }

  detach(session) {
    this.#views.delete(session);
    this.#early.delete(session);
  }

  // refresh hands a new token to the gateway: a second register renews the
  // socket and every session on it.
  async refresh(token) {
    if (!this.#ws || this.#ws.readyState !== WebSocket.OPEN || token === this.#token) return;
    this.#token = token;
    await this.#call(this.#nextId++, 'register', { authorization: token }).catch(() => {});
  }

  close() {
    const ws = this.#ws;
    this.#dropped(ws);
    ws?.close(1000);
  }

  #dispatch(data) {
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      return;
    }
    if (m.method === undefined && m.id !== undefined) {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.error) {
        const err = new Error(m.error.message || `error ${m.error.code}`);
        err.code = m.error.code;
        p.reject(err);
      } else {
        p.resolve(m.result);
      }
      return;
    }
    const session = m.params?.session;
    if (!session) return; // an error about the socket itself: the pending request says it
    const view = this.#views.get(session);
    if (view) view.onSignal(m);
    else if (m.method === 'invite') this.#early.set(session, [...(this.#early.get(session) ?? []), m]);
  }

  // #dropped forgets a socket that closed (or is being closed): its pending
  // requests fail, and the next request opens a new one.
  #dropped(ws) {
    if (!ws || ws !== this.#ws) return;
    this.#ws = null;
    this.#opening = null;
    for (const [, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new Error('the signaling socket closed'));
    }
    this.#pending.clear();
    // Views that are playing keep playing: the gateway keeps their media.
  }
}

const signaling = new Signaling();
auth.onChange((event) => {
  if (event === 'refreshed') signaling.refresh(auth.accessToken());
  if (event === 'signed-out') signaling.close();
});

// WsLiveSession has LiveSession's interface (session.js), so the page can
// use either.
export class WsLiveSession extends PeerSession {
  #invited = null; // settles when the answer is sent (or the session ends first)
  #settle = null;
  signaling = 'ws';

  async start() {
    const t0 = performance.now();
    const pc = (this.pc = new RTCPeerConnection({ iceServers: [] }));
    pc.ontrack = (e) => this.showTrack(e, t0);
    pc.onicecandidate = (e) => {
      // The sample filters the null candidate and sends a JSON string.
      if (e.candidate && this.id) signaling.notify('trickle', { session: this.id, candidate: JSON.stringify(e.candidate) });
    };
    pc.oniceconnectionstatechange = () => this.onChange();
    pc.onconnectionstatechange = () => this.onChange();
    this.#invited = new Promise((resolve, reject) => { this.#settle = { resolve, reject }; });
    this.#invited.catch(() => {}); // start() reports it; a late one must not reach the console

    const params = { authorization: auth.accessToken(), peer: this.deviceId, includeAudio: false };
    if (this.playback) {
      // The 2025 R2 sample's names: PlaybackTime, skipGaps, PlaybackSpeed (a string).
      Object.assign(params, {
        PlaybackTime: this.playback.time.toISOString(),
        skipGaps: this.playback.skipGaps,
        PlaybackSpeed: String(this.playback.speed),
      });
    }
    const { session } = await signaling.request('connect', params);
    this.id = session;
    if (this.closed) return this.deleteSession();
    signaling.attach(session, this);
    this.onChange();
    await this.#invited;
    if (this.closed) return;
    this.channel = pc.createDataChannel('commands', { protocol: 'videoos-commands' });
    this.watchChannel(this.channel);
    this.channel.onopen = () => this.onChange();
    this.channel.onclose = () => this.onChange();
  }

  // onSignal takes the gateway's messages about this session.
  onSignal(m) {
    if (this.closed) return;
    if (m.method === 'invite') {
      this.#answer(m).then(this.#settle.resolve, this.#settle.reject);
    } else if (m.method === 'trickle') {
      // The gateway trickles after our answer, so the offer is applied.
      this.pc.addIceCandidate(m.params.candidate).catch(() => {});
    } else if (m.method === 'cameraState') {
      // The same as the data channel's event, for a channel not open yet.
      this.setCameraState(m.params);
    } else if (m.method === 'error') {
      // 1002: the session ended (peer gone, token expired); 408: it got no
      // answer in time. Either way the view must start again.
      this.#settle.reject(new Error(m.params.message));
      this.error = m.params.message;
      this.onChange();
    }
  }

  async #answer(m) {
    const pc = this.pc;
    await pc.setRemoteDescription(JSON.parse(m.params.offer));
    await pc.setLocalDescription(await pc.createAnswer());
    signaling.respond(m.id, { answer: JSON.stringify(pc.localDescription) });
  }

  async updateToken() {
    // The socket's register renews every session on it (see Signaling).
  }

  // close also lets a start() waiting for the invite return, and stops the
  // socket routing this session's messages here; neither runs a callback
  // before super.close() has marked the view closed.
  close() {
    if (this.closed) return;
    this.#settle?.resolve();
    if (this.id) signaling.detach(this.id);
    super.close();
  }
}
