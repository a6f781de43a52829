// One live view of one camera, signaled exactly as the official XProtect
// JavaScript sample does over REST: the gateway offers, the browser answers,
// and ICE candidates trickle both ways through REST calls.
import { api } from './api.js';
import { BASE, PeerSession } from './peer.js';

// The sample polls every 20 ms while ICE is new/checking and gives up after
// three failures in a row; the gateway is built to take that load.
const POLL_MS = 20;
const MAX_POLL_FAILURES = 3;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class LiveSession extends PeerSession {
  // start creates the session and answers the offer. It rejects with the
  // error to show; after close() it settles quietly.
  async start() {
    const t0 = performance.now();
    const created = await api('POST', `${BASE}/Session`, {
      deviceId: this.deviceId,
      resolution: 'notInUse',
      includeAudio: false,
      // Live, in the sample's own words: an empty playbackTime. Playback
      // as the sample sends it: an ISO time and the speed as a string.
      playbackTimeNode: this.playback
        ? { playbackTime: this.playback.time.toISOString(), speed: String(this.playback.speed), skipGaps: this.playback.skipGaps }
        : { playbackTime: '', skipGaps: false },
      iceServers: [],
    });
    this.id = created.sessionId;
    if (this.closed) return this.deleteSession();

    const pc = (this.pc = new RTCPeerConnection({ iceServers: [] }));
    pc.ontrack = (e) => this.showTrack(e, t0);
    pc.onicecandidate = (e) => { if (e.candidate) this.#sendCandidate(e.candidate); };
    pc.oniceconnectionstatechange = () => this.onChange();
    pc.onconnectionstatechange = () => this.onChange();

    const remote = pc.setRemoteDescription(JSON.parse(created.offerSDP));
    this.#pollCandidates(remote); // in parallel, like the sample: before the answer
    await remote;
    await pc.setLocalDescription(await pc.createAnswer());
    if (this.closed) return;
    await api('PATCH', `${BASE}/Session/${this.id}`, { answerSDP: JSON.stringify(pc.localDescription) });
    if (this.closed) return;
    // The offer already carries an m=application section, so the channel
    // opens without renegotiation (clients never handle negotiationneeded).
    this.channel = pc.createDataChannel('commands', { protocol: 'videoos-commands' });
    this.watchChannel(this.channel);
    this.channel.onopen = () => this.onChange();
    this.channel.onclose = () => this.onChange();
  }

  // updateToken hands a refreshed access token to the gateway, which would
  // otherwise close the session when the old token expires.
  async updateToken(token) {
    if (!this.id || this.closed) return;
    await api('PATCH', `${BASE}/Session/${this.id}`, { token }).catch(() => {});
  }

  #sendCandidate(candidate) {
    // One candidate per request, as the sample sends them. A lost one is not
    // fatal: the gateway also learns our address as a peer-reflexive candidate.
    api('POST', `${BASE}/IceCandidates/${this.id}`, { candidates: [JSON.stringify(candidate)] })
      .catch(() => {});
  }

  async #pollCandidates(remoteReady) {
    const seen = new Set(); // the gateway may return its full list every time
    let failures = 0;
    const polling = () => ['new', 'checking'].includes(this.pc.iceConnectionState);
    while (!this.closed && failures < MAX_POLL_FAILURES && polling()) {
      try {
        const { candidates } = await api('GET', `${BASE}/IceCandidates/${this.id}`);
        await remoteReady; // candidates need the offer applied first
        for (const c of candidates) {
          if (seen.has(c) || this.closed) continue;
          seen.add(c);
          await this.pc.addIceCandidate(JSON.parse(c));
        }
        failures = 0;
      } catch {
        failures++;
      }
      await sleep(POLL_MS);
    }
  }
}
