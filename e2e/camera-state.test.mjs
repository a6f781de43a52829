// Honest camera state in the console: a camera that fails shows "offline"
// with the reason in words, never its last picture, and plays again by
// itself when it comes back. The camera is camgate's demo camera reached
// through a TCP relay this test owns (RTSP over TCP): closing the relay is
// a camera that goes away and refuses connections; opening it again brings
// the camera back. Run by e2e/run.sh in a loopback-only namespace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { launch, waitForPlayback } from './browser.mjs';
import { freePort, startGateway } from './gateway.mjs';

const SCREENSHOTS = 'e2e/screenshots';
const GATE = '11111111-2222-3333-4444-555555555555';
const GATE_STREAM = '11111111-2222-3333-4444-000000000001';
const REASON = 'the camera refused the connection';
// A camera that never answers: nothing listens at its address.
const NEVER = '11111111-2222-3333-4444-666666666666';

let gateway, browser, relay, demoPort, relayPort, deadPort;

// Relay forwards relayPort to the demo camera's RTSP port. close() drops
// every connection and stops listening: to camgate the camera is gone.
class Relay {
  #server = null;
  #sockets = new Set();

  async open() {
    this.#server = createServer((client) => {
      const camera = connect(demoPort, '127.0.0.1');
      for (const s of [client, camera]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => { client.destroy(); camera.destroy(); });
      }
      client.pipe(camera);
      camera.pipe(client);
    });
    await new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(relayPort, '127.0.0.1', resolve);
    });
  }

  async close() {
    const server = this.#server;
    this.#server = null;
    const closed = new Promise((resolve) => server?.close(resolve) ?? resolve());
    for (const s of this.#sockets) s.destroy();
    await closed;
  }
}

before(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  [demoPort, relayPort, deadPort] = [await freePort(), await freePort(), await freePort()];
  relay = new Relay();
  await relay.open();
  gateway = await startGateway({
    name: 'camera-state',
    args: ['--demo-listen', `127.0.0.1:${demoPort}`],
    env: {
      CAMGATE__Cameras__0__Id: GATE,
      CAMGATE__Cameras__0__Name: 'Gate',
      CAMGATE__Cameras__0__Transport: 'tcp',
      CAMGATE__Cameras__0__Streams__0__Id: GATE_STREAM,
      CAMGATE__Cameras__0__Streams__0__Url: `rtsp://127.0.0.1:${relayPort}/demo`,
      CAMGATE__Cameras__1__Id: NEVER,
      CAMGATE__Cameras__1__Name: 'Never',
      CAMGATE__Cameras__1__Transport: 'tcp',
      CAMGATE__Cameras__1__Streams__0__Id: '11111111-2222-3333-4444-000000000002',
      CAMGATE__Cameras__1__Streams__0__Url: `rtsp://127.0.0.1:${deadPort}/stream`,
      // The demo user's role, with its rights on every camera (the camera
      // view asks for recordings too).
      CAMGATE__Auth__Roles__0__Name: 'demo',
      CAMGATE__Auth__Roles__0__Live__0: '*',
      CAMGATE__Auth__Roles__0__Playback__0: '*',
      CAMGATE__Auth__Roles__0__Export__0: '*',
      CAMGATE__Auth__Roles__0__Ptz__0: '*',
    },
  });
  browser = await launch();
}, { timeout: 25_000 });

after(async () => {
  await browser?.close();
  await gateway?.stop();
  await relay?.close();
});

// hidden reports whether the video matching selector is hidden.
const hidden = (page, selector) => page.$eval(selector, (v) => getComputedStyle(v).visibility === 'hidden');

// Budget: before 25 s + test 90 s + after ≤ 5 s.
test('a camera that fails shows offline with the reason, never its last picture', { timeout: 90_000 }, async (t) => {
  const { page, errors } = browser;
  try {
    await page.goto(gateway.url);
    await page.getByLabel('User name').fill('demo');
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const id = await page.waitForFunction((want) => [...document.querySelectorAll('#grid li')]
      .find((li) => li.dataset.id.toUpperCase() === want)?.dataset.id, GATE, { timeout: 10_000 }).then((h) => h.jsonValue());
    const tile = `#grid li[data-id="${id}"]`;

    // A camera that has failed since camgate started shows "offline" and
    // why in its tile, not "connecting" for ever.
    const never = await page.waitForFunction((want) => [...document.querySelectorAll('#grid li')]
      .find((li) => li.dataset.id.toUpperCase() === want)?.dataset.id, NEVER, { timeout: 10_000 }).then((h) => h.jsonValue());
    const neverTile = `#grid li[data-id="${never}"]`;
    await page.waitForFunction(({ sel, reason }) => {
      const li = document.querySelector(sel);
      return li?.dataset.state === 'offline' && li.querySelector('.badge').textContent === 'offline'
        && li.querySelector('.state-overlay').textContent.includes(reason);
    }, { sel: neverTile, reason: REASON }, { timeout: 15_000, polling: 100 }).catch(async (err) => {
      const li = page.locator(neverTile);
      throw new Error(`the tile of a camera that never answered: state ${await li.getAttribute('data-state')}, `
        + `badge "${await li.locator('.badge').textContent()}", overlay "${await li.locator('.state-overlay').textContent()}", `
        + `under it "${await li.locator('.why').textContent()}" (${err.message})`);
    });
    t.diagnostic(`never-answering camera: "${await page.locator(`${neverTile} .state-overlay`).textContent()}"`);

    await waitForPlayback(page, `${tile} video`, { timeout: 30_000 });
    assert.equal(await hidden(page, `${tile} video`), false, 'the streaming tile shows its video');

    // From here until the camera view has said "offline", the camera list
    // the page fetches every few seconds is held back: what the page shows
    // comes from the gateway's cameraState events alone.
    const held = [];
    const LIST = /\/API\/rest\/v1\/cameras$/;
    await page.route(LIST, (route) => { held.push(route); });

    // The camera goes away.
    let failed = Date.now();
    await relay.close();
    await page.waitForFunction(({ sel, reason }) => {
      const li = document.querySelector(sel);
      return li?.dataset.state === 'offline' && li.querySelector('.state-overlay').textContent.includes(reason);
    }, { sel: tile, reason: REASON }, { timeout: 10_000, polling: 50 });
    t.diagnostic(`tile offline after ${Date.now() - failed} ms: "${await page.locator(`${tile} .state-overlay`).textContent()}"`);
    assert.equal(await hidden(page, `${tile} video`), true, 'the offline tile hides its last picture');
    assert.equal(await page.locator(`${tile} .badge`).textContent(), 'offline');
    // The camera list beside the grid says so too.
    await page.waitForFunction((cam) => document.querySelector(`#cameras li[data-id="${cam}"] .badge`)?.textContent === 'offline',
      id, { timeout: 10_000, polling: 50 });
    await page.screenshot({ path: `${SCREENSHOTS}/camera-offline-grid.png` });

    // The camera view says the same, with the video hidden.
    await page.locator(`${tile} button`).click();
    await page.locator('#camera-view').waitFor({ state: 'visible', timeout: 5_000 });
    await page.waitForFunction((reason) => window.camgate.cameraState?.state === 'offline'
      && document.getElementById('video-state').textContent.includes(reason), REASON, { timeout: 10_000, polling: 50 });
    assert.equal(await hidden(page, '#video'), true, 'the camera view hides the video of an offline camera');
    await page.screenshot({ path: `${SCREENSHOTS}/camera-offline-view.png` });
    t.diagnostic(`camera list requests held back meanwhile: ${held.length}`);
    await page.unroute(LIST);
    for (const route of held) await route.continue().catch(() => {});

    // Back: the view plays again without a reload or a click.
    const back = Date.now();
    await relay.open();
    // The video shows again once a frame from after the outage is drawn.
    await page.waitForFunction(() => window.camgate.cameraState?.state === 'streaming'
      && document.getElementById('video-state').textContent === ''
      && getComputedStyle(document.getElementById('video')).visibility !== 'hidden', null, { timeout: 30_000, polling: 50 });
    t.diagnostic(`camera view showing video again ${Date.now() - back} ms after the camera came back`);
    const v = await waitForPlayback(page, '#video', { timeout: 10_000 });
    assert.ok(v.advanced > 1, `the video plays again (advanced ${v.advanced} s in 2 s)`);

    // And once more while the camera view is open: it notices by itself.
    failed = Date.now();
    await relay.close();
    await page.waitForFunction(() => window.camgate.cameraState?.state !== 'streaming'
      && document.getElementById('video-state').textContent.length > 0
      && getComputedStyle(document.getElementById('video')).visibility === 'hidden', null, { timeout: 10_000, polling: 50 });
    t.diagnostic(`camera view: "${await page.locator('#video-state').textContent()}" after ${Date.now() - failed} ms`);
    await relay.open();
    await page.waitForFunction(() => getComputedStyle(document.getElementById('video')).visibility !== 'hidden', null, { timeout: 30_000 });
    await waitForPlayback(page, '#video', { timeout: 10_000 });
    assert.deepEqual(errors, [], 'no errors in the browser console');
  } catch (err) {
    await page.screenshot({ path: `${SCREENSHOTS}/camera-state-failure.png` }).catch(() => {});
    console.log(gateway?.log.slice(-40).join('\n'));
    throw err;
  }
});
