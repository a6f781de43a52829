// Signed in across a gateway restart with short token lifetimes: the page
// renews its access token with its refresh token every few seconds, and
// keeps doing so against a restarted camgate (refresh tokens are kept,
// hashed, in the data folder). When the gateway has lost them (the file
// removed while it was down), the page says plainly that the session
// ended instead of showing an empty sign-in form; a reload with an expired
// access token renews it first. Run by e2e/run.sh in a loopback-only
// namespace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from './browser.mjs';
import { DEMO_CAMERA, freePort, startGateway } from './gateway.mjs';

const SCREENSHOTS = 'e2e/screenshots';

let gateway, dataDir, browser, env;

// A one-minute access token: the page refreshes it 5 s after each
// sign-in or refresh (60 s before expiry, at least 5 s from now).
const start = () => startGateway({ name: 'tokens', dataDir, env });

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'camgate-e2e-tokens-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  env = { CAMGATE__Http__Listen: `127.0.0.1:${await freePort()}`, CAMGATE__Auth__BuiltIn__TokenLifetime: '1m' };
  browser = await launch();
}, { timeout: 20_000 });

after(async () => {
  await browser?.close();
  await gateway?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const refreshes = (page) => page.evaluate(() => window.camgate.tokenRefreshes ?? 0);

// Budget: before 20 s + test 90 s + after ≤ 5 s.
test('a restart keeps the page signed in, or the page says the session ended', { timeout: 90_000 }, async (t) => {
  const { page, errors } = browser;
  try {
    gateway = await start();
    await page.goto(gateway.url);
    await page.getByLabel('User name').fill('demo');
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForFunction((want) => Object.keys(window.camgate.tiles ?? {}).some((id) => id.toUpperCase() === want), DEMO_CAMERA);
    await page.waitForFunction(() => (window.camgate.tokenRefreshes ?? 0) >= 1, null, { timeout: 15_000 });

    // Restart with the same data folder: the refresh token the page holds
    // was issued by the old process.
    await gateway.stop();
    gateway = await start();
    const n = await refreshes(page);
    await page.waitForFunction((n0) => (window.camgate.tokenRefreshes ?? 0) >= n0 + 2, n, { timeout: 25_000 });
    t.diagnostic(`refreshes: ${n} before the restart was noticed, ${await refreshes(page)} now`);
    assert.equal(await page.locator('#sign-in').isVisible(), false, 'still signed in after the restart');
    assert.equal(await page.evaluate(() => window.camgate.sessionEnded), null);
    const id = await page.evaluate((want) => Object.keys(window.camgate.tiles).find((k) => k.toUpperCase() === want), DEMO_CAMERA);
    await page.waitForFunction((cam) => window.camgate.tiles[cam] === 'streaming', id, { timeout: 30_000 });
    await page.screenshot({ path: `${SCREENSHOTS}/tokens-restarted.png` });

    // A gateway that lost the refresh tokens: the page says the session
    // ended, names the user, and asks for the password only.
    await gateway.stop();
    await rm(join(dataDir, 'oauth', 'refresh-tokens.json'), { force: true });
    gateway = await start();
    await page.locator('#sign-in').waitFor({ state: 'visible', timeout: 25_000 });
    const notice = await page.locator('#sign-in-notice').textContent();
    t.diagnostic(`sign-in notice: "${notice}"`);
    assert.match(notice, /^Your session ended: the gateway no longer accepts this sign-in \(.+\)\. Sign in again\.$/);
    assert.equal(await page.locator('#sign-in-notice').isVisible(), true);
    assert.equal(await page.getByLabel('User name').inputValue(), 'demo');
    await page.screenshot({ path: `${SCREENSHOTS}/tokens-ended.png` });

    // Signing in again clears the notice.
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#sign-in').waitFor({ state: 'hidden', timeout: 5_000 });
    assert.equal(await page.evaluate(() => window.camgate.sessionEnded), null);

    // A reload after the access token expired (a tab asleep for longer than
    // its lifetime): the page renews it with the refresh token before it
    // starts, and is signed in, not an empty form.
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('camgate.auth'));
      sessionStorage.setItem('camgate.auth', JSON.stringify({ ...s, expiresAt: Date.now() - 1_000 }));
    });
    await page.reload();
    await page.waitForFunction(() => window.camgate?.signedIn === true && (window.camgate.tokenRefreshes ?? 0) >= 1, null, { timeout: 10_000 });
    assert.equal(await page.locator('#sign-in').isVisible(), false, 'signed in after a reload with an expired access token');
    await page.waitForFunction((want) => Object.values(window.camgate.tiles ?? {}).length > 0
      && Object.keys(window.camgate.tiles).some((id) => id.toUpperCase() === want), DEMO_CAMERA, { timeout: 10_000 });
    // Chromium logs the requests refused while camgate was down, and the
    // refused refresh: those are expected; nothing else is.
    const unexpected = errors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|status of 400/.test(e));
    assert.deepEqual(unexpected, [], 'no unexpected errors in the browser console');
  } catch (err) {
    await page.screenshot({ path: `${SCREENSHOTS}/tokens-failed.png` }).catch(() => {});
    t.diagnostic(`camgate log (last 40 lines):\n${gateway?.log.slice(-40).join('\n')}`);
    t.diagnostic(`console errors: ${JSON.stringify(errors)}`);
    throw err;
  }
});
