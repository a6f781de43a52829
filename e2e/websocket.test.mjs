// The page plays the demo camera through XProtect's WebSocket signaling
// (/API/ws/webrtc/v1, chosen with ?signaling=ws): register, connect, the
// gateway's invite, the page's answer, trickles both ways, in headless
// Chromium. Run by e2e/run.sh inside a loopback-only network namespace, like
// live.test.mjs; gateway.mjs starts camgate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { launch, waitForPlayback } from './browser.mjs';
import { DEMO_CAMERA, startGateway } from './gateway.mjs';

const SCREENSHOTS = 'e2e/screenshots';

let gateway, browser, url;

before(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  gateway = await startGateway({ name: 'ws' });
  url = gateway.url;
  browser = await launch();
}, { timeout: 25_000 });

after(async () => {
  await browser?.close();
  await gateway?.stop();
});

// summarize names a JSON-RPC message by what it is: "register", "result",
// "invite", "trickle", "error"…
function summarize(text) {
  try {
    const m = JSON.parse(text);
    if (m.method) return m.method;
    if (m.error) return `error ${m.error.code}`;
    if (m.result?.answer) return 'answer';
    return 'result';
  } catch {
    return 'not JSON';
  }
}

test('the page plays the demo camera over WebSocket signaling', { timeout: 30_000 }, async (t) => {
  const { page, errors } = browser;
  // What the page and the gateway say to each other on the socket.
  const sent = [];
  const received = [];
  const sockets = [];
  page.on('websocket', (ws) => {
    sockets.push(ws.url());
    ws.on('framesent', (f) => sent.push(summarize(f.payload)));
    ws.on('framereceived', (f) => received.push(summarize(f.payload)));
  });
  // No REST signaling: the session comes from the socket.
  const restSignaling = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname.toLowerCase();
    if (path.startsWith('/api/rest/v1/webrtc/') && r.method() !== 'DELETE') restSignaling.push(`${r.method()} ${path}`);
  });
  try {
    await page.goto(new URL(`?signaling=ws#camera=${DEMO_CAMERA}`, url).href); // the camera view
    const form = page.locator('#sign-in');
    await form.waitFor({ state: 'visible', timeout: 5_000 });
    await page.getByLabel('User name').fill('demo');
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await form.waitFor({ state: 'hidden', timeout: 5_000 });

    const v = await waitForPlayback(page, '#video', { timeout: 20_000 });
    t.diagnostic(`video ${v.w}x${v.h}, clock advanced ${v.advanced.toFixed(2)} s in 2 s`);
    assert.ok(v.w > 0 && v.h > 0, 'the video has a size');
    assert.ok(v.advanced > 1, `the video clock advanced only ${v.advanced} s in 2 s`);

    await page.waitForFunction(() => window.camgate.framesDecoded > 0 && window.camgate.commandsChannel === 'open');
    const s = await page.evaluate(() => ({ ...window.camgate }));
    t.diagnostic(`time to first frame over WebSocket: ${s.ttffMs} ms`);
    console.log(`ttff over WebSocket ${s.ttffMs} ms`);
    assert.equal(s.signaling, 'ws');
    assert.equal(s.state, 'playing');
    assert.equal(s.cameraId.toUpperCase(), DEMO_CAMERA);
    assert.equal(s.connectionState, 'connected');
    assert.ok(s.ttffMs > 0, 'time to first frame was measured');

    // The sample's sequence, on one socket.
    assert.equal(sockets.length, 1, `sockets opened: ${JSON.stringify(sockets)}`);
    assert.match(sockets[0], /\/API\/ws\/webrtc\/v1$/);
    assert.deepEqual(sent.slice(0, 2), ['register', 'connect'], `sent: ${sent.join(', ')}`);
    assert.deepEqual(received.slice(0, 3), ['result', 'result', 'invite'], `received: ${received.join(', ')}`);
    assert.ok(sent.includes('answer'), `the page answered the invite (sent: ${sent.join(', ')})`);
    assert.ok(sent.includes('trickle') && received.includes('trickle'), `trickles both ways (sent: ${sent.join(', ')}; received: ${received.join(', ')})`);
    assert.deepEqual(restSignaling, [], 'no REST signaling');
    t.diagnostic(`page → gateway: ${sent.join(', ')}`);
    t.diagnostic(`gateway → page: ${received.join(', ')}`);
    await page.screenshot({ path: `${SCREENSHOTS}/live-websocket.png` });

    // Choosing the camera again: a second session on the same socket.
    const list = page.getByRole('navigation', { name: 'Cameras' });
    await list.getByRole('button', { name: /Demo/ }).click();
    await page.waitForFunction((old) => window.camgate.state === 'playing' && window.camgate.sessionId !== old, s.sessionId);
    t.diagnostic(`time to first frame, second session: ${await page.evaluate(() => window.camgate.ttffMs)} ms`);
    assert.equal(sockets.length, 1, 'the second session uses the same socket');
    assert.equal(sent.filter((m) => m === 'connect').length, 2);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await form.waitFor({ state: 'visible', timeout: 5_000 });
    assert.deepEqual(errors, [], 'no errors in the browser console');
  } catch (err) {
    await page.screenshot({ path: `${SCREENSHOTS}/live-websocket-failed.png` }).catch(() => {});
    t.diagnostic(`camgate log (last 40 lines):\n${gateway.log.slice(-40).join('\n')}`);
    t.diagnostic(`console errors: ${JSON.stringify(errors)}`);
    t.diagnostic(`sent: ${sent.join(', ')}; received: ${received.join(', ')}`);
    throw err;
  }
});
