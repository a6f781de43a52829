// A gateway restart the page recovers from by itself: camgate stops
// (SIGTERM) while the grid plays, the page says it cannot reach the
// gateway, camgate starts again on the same port with the same data folder
// (so the signing keys, and with them the page's token, survive), and the
// tile plays again without a reload or a new sign-in. Run by e2e/run.sh in
// a loopback-only namespace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { launch, waitForPlayback } from './browser.mjs';
import { DEMO_CAMERA, freePort } from './gateway.mjs';

const BIN = process.env.CAMGATE_BIN ?? 'bin/camgate';
const SCREENSHOTS = 'e2e/screenshots';

let gateway, dataDir, browser, port;
const gatewayLog = [];

function startGateway() {
  gateway = spawn(BIN, ['--config', 'e2e/config', '--demo'], {
    env: { ...process.env, CAMGATE__DataDir: dataDir, CAMGATE__Http__Listen: `127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = gateway;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" line within 10 s:\n${gatewayLog.join('\n')}`)), 10_000);
    proc.once('error', reject);
    proc.once('exit', (code, signal) => reject(new Error(`camgate exited (${code ?? signal}) before listening:\n${gatewayLog.join('\n')}`)));
    for (const stream of [proc.stdout, proc.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        gatewayLog.push(line);
        const m = /listening on (http:\/\/\S+\/)/.exec(line);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
    }
  });
}

async function stopGateway() {
  if (!gateway || gateway.exitCode !== null || gateway.signalCode !== null) return;
  const proc = gateway;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 4_000); // shutdown must not hang the suite
  await exited;
  clearTimeout(timer);
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'camgate-e2e-restart-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  port = await freePort();
  browser = await launch();
}, { timeout: 20_000 });

after(async () => {
  await browser?.close();
  await stopGateway();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const tileVideo = (id) => `#grid li[data-id="${id}"] video`;

test('the page recovers from a gateway restart by itself', { timeout: 100_000 }, async (t) => {
  const { page, errors } = browser;
  try {
    const url = await startGateway();
    assert.equal(new URL(url).port, String(port), 'camgate listens on the port chosen');
    await page.goto(url);
    await page.getByLabel('User name').fill('demo');
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForFunction((want) => [...document.querySelectorAll('#grid li')].some((li) => li.dataset.id.toUpperCase() === want), DEMO_CAMERA);
    const id = await page.evaluate((want) => [...document.querySelectorAll('#grid li')].find((li) => li.dataset.id.toUpperCase() === want).dataset.id, DEMO_CAMERA);
    await waitForPlayback(page, tileVideo(id), { timeout: 20_000 });
    await page.waitForFunction((cam) => window.camgate.tiles[cam] === 'streaming', id);
    assert.deepEqual(errors, [], 'no errors in the browser console before the restart');
    // A reload would lose this.
    await page.evaluate(() => { window.notReloaded = true; });

    // Stop camgate: the page notices and says so.
    const stopped = Date.now();
    await stopGateway();
    await page.waitForFunction((cam) => window.camgate.tiles[cam] !== 'streaming'
      && /cannot be reached/.test(document.getElementById('grid-message').textContent), id, { timeout: 20_000 });
    t.diagnostic(`noticed after ${Date.now() - stopped} ms: "${await page.locator('#grid-message').textContent()}", tile ${await page.evaluate((cam) => window.camgate.tiles[cam], id)}`);
    assert.equal(await page.locator('#banner').isVisible(), true, 'the header says the gateway is unreachable');
    await page.screenshot({ path: `${SCREENSHOTS}/restart-down.png` });

    // Start it again on the same port with the same data folder.
    const restarted = Date.now();
    assert.equal(await startGateway(), url);
    await page.waitForFunction((cam) => window.camgate.tiles[cam] === 'streaming', id, { timeout: 30_000 });
    const v = await waitForPlayback(page, tileVideo(id), { timeout: 10_000 });
    t.diagnostic(`playing again ${Date.now() - restarted} ms after the restart (${v.w}x${v.h}, advanced ${v.advanced.toFixed(2)} s in 2 s)`);
    assert.ok(v.advanced > 1, 'the tile plays again');
    assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was not reloaded');
    assert.equal(await page.locator('#sign-in').isVisible(), false, 'still signed in');
    await page.waitForFunction(() => document.getElementById('grid-message').textContent === '', null, { timeout: 10_000 });
    assert.equal(await page.locator('#banner').isVisible(), false, 'the banner is gone');
    await page.screenshot({ path: `${SCREENSHOTS}/restart-recovered.png` });

    // While camgate was down Chromium logged the refused requests; from now on nothing.
    t.diagnostic(`console errors while camgate was down (expected): ${errors.length}`);
    errors.length = 0;
    // The token still works: the camera view plays too.
    await page.locator(`#grid li[data-id="${id}"] button`).click();
    await waitForPlayback(page, '#video', { timeout: 20_000 });
    await page.waitForFunction(() => window.camgate.state === 'playing');
    assert.deepEqual(errors, [], 'no errors in the browser console after the recovery');

    // The camera view recovers from a restart as well.
    const session = await page.evaluate(() => window.camgate.sessionId);
    await stopGateway();
    await page.waitForFunction(() => /cannot be reached/.test(document.getElementById('message').textContent), null, { timeout: 20_000 });
    t.diagnostic(`camera view: "${await page.locator('#message').textContent()}", state ${await page.evaluate(() => window.camgate.state)}`);
    await page.screenshot({ path: `${SCREENSHOTS}/restart-camera-down.png` });
    const again = Date.now();
    await startGateway();
    await page.waitForFunction((old) => window.camgate.state === 'playing' && window.camgate.sessionId !== old
      && window.camgate.connectionState === 'connected', session, { timeout: 30_000 });
    const cv = await waitForPlayback(page, '#video', { timeout: 10_000 });
    t.diagnostic(`camera view playing again ${Date.now() - again} ms after the restart (advanced ${cv.advanced.toFixed(2)} s in 2 s)`);
    assert.ok(cv.advanced > 1, 'the camera view plays again');
    assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was not reloaded');
    await page.screenshot({ path: `${SCREENSHOTS}/restart-camera-recovered.png` });
  } catch (err) {
    await page.screenshot({ path: `${SCREENSHOTS}/restart-failed.png` }).catch(() => {});
    t.diagnostic(`camgate log (last 40 lines):\n${gatewayLog.slice(-40).join('\n')}`);
    t.diagnostic(`console errors: ${JSON.stringify(errors)}`);
    throw err;
  }
});
