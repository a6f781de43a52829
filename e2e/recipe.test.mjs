// Smoke test of the browser itself, independent of camgate: two peer
// connections in one page send a canvas track to each other over loopback.
// When this fails, the problem is the Chromium set-up (flags, permissions,
// namespace), not the gateway.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { launch, waitForPlayback } from './browser.mjs';

const PAGE = `<!doctype html><meta charset="utf-8"><title>recipe</title>
<video id="v" autoplay muted playsinline></video>
<script type="module">
const canvas = Object.assign(document.createElement('canvas'), { width: 320, height: 240 });
const g = canvas.getContext('2d');
let n = 0;
setInterval(() => { g.fillStyle = 'hsl(' + (n++ * 7) % 360 + ' 80% 50%)'; g.fillRect(0, 0, 320, 240); }, 40);
const a = new RTCPeerConnection({ iceServers: [] });
const b = new RTCPeerConnection({ iceServers: [] });
window.candidates = [];
a.onicecandidate = (e) => { if (e.candidate) { window.candidates.push(e.candidate.candidate); b.addIceCandidate(e.candidate); } };
b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
b.ontrack = (e) => { document.getElementById('v').srcObject = e.streams[0]; };
canvas.captureStream(25).getTracks().forEach((t, _, all) => a.addTrack(t, new MediaStream(all)));
await a.setLocalDescription();
await b.setRemoteDescription(a.localDescription);
await b.setLocalDescription();
await a.setRemoteDescription(b.localDescription);
</script>`;

let server, browser;

before(async () => {
  server = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('Chromium plays a WebRTC track over loopback', { timeout: 40_000 }, async () => {
  const { page, errors } = browser;
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const v = await waitForPlayback(page, '#v');
  const candidates = await page.evaluate(() => window.candidates);
  console.log('recipe: %dx%d, advanced %ss, candidates %j', v.w, v.h, v.advanced.toFixed(2), candidates);
  assert.ok(v.w > 0, 'video has a size');
  assert.ok(v.advanced > 1, `video clock advanced ${v.advanced}s in 2s`);
  assert.ok(candidates.some((c) => c.includes('127.0.0.1')), 'a loopback host candidate, not only mDNS');
  assert.deepEqual(errors, []);
});
