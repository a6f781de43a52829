// The PTZ pad in a real browser: the demo camera's simulated PTZ steered
// from the page over the "videoos-commands" data channel, its position read
// back with ptzStatus, and the picture moved by the page's stand-in
// transform. Run by e2e/run.sh inside a loopback-only network namespace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { launch, waitForPlayback } from './browser.mjs';
import { DEMO_CAMERA, startGateway } from './gateway.mjs';

const SCREENSHOTS = 'e2e/screenshots';

let gateway, browser, url;

before(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  gateway = await startGateway({ name: 'ptz' });
  url = gateway.url;
  assert.equal(gateway.demo.ptz, true, 'the camera list says the demo camera has PTZ');
  browser = await launch();
}, { timeout: 25_000 });

after(async () => {
  await browser?.close();
  await gateway?.stop();
});

const ptzState = (page) => page.evaluate(() => ({ ...window.camgate.ptz }));
const videoTransform = (page) => page.$eval('#video', (v) => getComputedStyle(v).transform);

// holdButton presses a pad button with the mouse, keeps it down, releases.
async function holdButton(page, name, ms) {
  const button = page.locator('#ptz').getByRole('button', { name, exact: true });
  await button.hover();
  await page.mouse.down();
  await page.waitForTimeout(ms);
  await page.mouse.up();
}

// touchHold presses a pad button with a finger (Chromium's touch input over
// CDP: pointer events of type "touch"), keeps it down, lifts it.
async function touchHold(page, name, ms) {
  const box = await page.locator('#ptz').getByRole('button', { name, exact: true }).boundingBox();
  const point = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 1 });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point] });
    await page.waitForTimeout(ms);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: false });
  } finally {
    await cdp.detach().catch(() => {});
  }
}

// settled waits (up to 5 s) until the camera stands still where the page
// function done(before) holds, and returns the position either way: the
// caller asserts on it, so that a failure says where the camera got to.
async function settled(page, done, before) {
  await page.waitForFunction(done, before, { timeout: 5_000 }).catch(() => {});
  return ptzState(page);
}

// Budget: before 25 s + test 40 s + after ≤ 5 s.
test('the PTZ pad moves the demo camera', { timeout: 40_000 }, async (t) => {
  const { page, errors } = browser;
  try {
    await page.goto(`${url}#camera=${DEMO_CAMERA}`); // the camera view (the grid is the landing view)
    const form = page.locator('#sign-in');
    await form.waitFor({ state: 'visible', timeout: 5_000 });
    await page.getByLabel('User name').fill('demo');
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await form.waitFor({ state: 'hidden', timeout: 5_000 });
    await waitForPlayback(page, '#video', { timeout: 20_000 });

    // The pad appears for the demo camera and reads the position.
    const pad = page.getByRole('region', { name: 'PTZ control' });
    await pad.waitFor({ state: 'visible', timeout: 5_000 });
    await page.waitForFunction(() => window.camgate.commandsChannel === 'open' && typeof window.camgate.ptz.pan === 'number');
    const start = await ptzState(page);
    t.diagnostic(`at start: ${JSON.stringify(start)}`);
    assert.equal(start.driver, 'simulated');
    assert.equal(start.mayControl, true);
    const transform0 = await videoTransform(page);

    // Press and hold "Right" for 0.6 s: ptzMove right every 200 ms, stop
    // on release. The simulated camera turns at 30°/s at the default speed.
    await holdButton(page, 'Right', 600);
    await page.waitForFunction((pan0) => window.camgate.ptz.pan > pan0 + 0.05 && !window.camgate.ptz.moving, start.pan, { timeout: 5_000 });
    const moved = await ptzState(page);
    t.diagnostic(`after holding Right 0.6 s: pan ${start.panDegrees}° → ${moved.panDegrees}°, transform ${moved.transform}`);
    assert.ok(moved.panDegrees > start.panDegrees + 10, `panned ${moved.panDegrees - start.panDegrees}°`);
    assert.match(await page.locator('#ptz-position').textContent(), /pan \d+\.\d°/);
    // The picture moved: shifted left (the camera turned right).
    await page.waitForFunction((before) => getComputedStyle(document.getElementById('video')).transform !== before, transform0);
    const transform1 = await videoTransform(page);
    t.diagnostic(`video transform ${transform0} → ${transform1}`);
    const tx = parseMatrix(transform1).e;
    assert.ok(tx < 0, `the picture shifted left (translate x ${tx})`);

    // Two holds in a row, the second pressed right after the first is
    // released: pressing "Up" moves the focus off "Right", whose blur must
    // not stop the new move. Both axes move.
    const before2 = await ptzState(page);
    await holdButton(page, 'Right', 500);
    await holdButton(page, 'Up', 500);
    const after2 = await settled(page, (b) => {
      const p = window.camgate.ptz;
      return !p.moving && p.panDegrees > b.panDegrees + 5 && p.tiltDegrees > b.tiltDegrees + 5;
    }, before2);
    t.diagnostic(`after Right then Up, 0.5 s each: pan ${before2.panDegrees}° → ${after2.panDegrees}°, tilt ${before2.tiltDegrees}° → ${after2.tiltDegrees}°`);
    assert.ok(after2.panDegrees > before2.panDegrees + 5, `Right panned ${after2.panDegrees - before2.panDegrees}°`);
    assert.ok(after2.tiltDegrees > before2.tiltDegrees + 5, `Up, right after Right, tilted ${after2.tiltDegrees - before2.tiltDegrees}°`);

    // By touch: a finger held on "Down" tilts down until it is lifted.
    await touchHold(page, 'Down', 500);
    const touched = await settled(page, (b) => !window.camgate.ptz.moving && window.camgate.ptz.tiltDegrees < b.tiltDegrees - 5, after2);
    t.diagnostic(`after a finger on Down for 0.5 s: tilt ${after2.tiltDegrees}° → ${touched.tiltDegrees}°`);
    assert.ok(touched.tiltDegrees < after2.tiltDegrees - 5, `Down by touch tilted ${touched.tiltDegrees - after2.tiltDegrees}°`);

    // Zoom in with the keyboard: the video focused, "+" held.
    await page.locator('#viewport').focus();
    await page.keyboard.down('+');
    await page.waitForTimeout(800);
    await page.keyboard.up('+');
    await page.waitForFunction(() => window.camgate.ptz.zoom > 0.1 && !window.camgate.ptz.moving, null, { timeout: 5_000 });
    // Arrow up: tilt rises.
    const tilt0 = (await ptzState(page)).tilt;
    await page.keyboard.down('ArrowUp');
    await page.waitForTimeout(400);
    await page.keyboard.up('ArrowUp');
    await page.waitForFunction((t0) => window.camgate.ptz.tilt > t0 && !window.camgate.ptz.moving, tilt0, { timeout: 5_000 });
    await page.waitForTimeout(600); // let the transition settle for the picture
    const zoomed = await ptzState(page);
    t.diagnostic(`after zoom and tilt: ${JSON.stringify(zoomed)}`);
    assert.ok((await videoTransform(page)) !== transform1, 'zoom and tilt changed the transform');
    await page.screenshot({ path: `${SCREENSHOTS}/ptz.png`, fullPage: true });

    // The pad is next in the Tab order, and a held Space moves too.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Up left');
    await page.keyboard.press('Tab'); // "Up"
    const tilt1 = (await ptzState(page)).tilt;
    await page.keyboard.down(' ');
    await page.waitForTimeout(400);
    await page.keyboard.up(' ');
    await page.waitForFunction((t1) => window.camgate.ptz.tilt > t1 && !window.camgate.ptz.moving, tilt1, { timeout: 5_000 });

    // Click-to-center: a point left of the centre comes to it (pan falls).
    const box = await page.locator('#viewport').boundingBox();
    await page.mouse.click(box.x + box.width * 0.2, box.y + box.height * 0.5);
    await page.waitForFunction((p0) => window.camgate.ptz.panDegrees < p0 - 1 && !window.camgate.ptz.moving, zoomed.panDegrees, { timeout: 5_000 });
    t.diagnostic(`after a click at x=0.2: pan ${zoomed.panDegrees}° → ${(await ptzState(page)).panDegrees}°`);

    // Aux 1 toggles and the status agrees.
    const aux = pad.getByRole('button', { name: 'Aux 1' });
    await aux.click();
    await page.waitForFunction(() => document.querySelector('[data-aux="1"]').getAttribute('aria-pressed') === 'true');

    // Home brings it back; the picture is back in place.
    await pad.getByRole('button', { name: 'Home', exact: true }).click();
    await page.waitForFunction(() => {
      const p = window.camgate.ptz;
      return Math.abs(p.panDegrees) < 0.5 && Math.abs(p.tiltDegrees) < 0.5 && p.zoom < 0.01 && !p.moving;
    }, null, { timeout: 10_000 });
    // The camera view as README and docs/console.md show it (docs/console.png
    // is this file): live video and its frame clock, diagnostics, the PTZ
    // pad, the timeline of recordings zoomed to 10 min, the playback controls.
    await page.getByRole('region', { name: 'Timeline' }).getByRole('button', { name: '10 min' }).click();
    await page.waitForTimeout(1_200); // the picture's stand-in transform settles back
    await page.screenshot({ path: `${SCREENSHOTS}/console.png`, fullPage: true });

    // A phone-width view keeps the pad usable.
    await page.setViewportSize({ width: 390, height: 844 });
    await holdButton(page, 'Left', 600);
    await page.waitForFunction(() => window.camgate.ptz.panDegrees < -3 && !window.camgate.ptz.moving, null, { timeout: 5_000 });
    await page.screenshot({ path: `${SCREENSHOTS}/ptz-phone.png`, fullPage: true });

    assert.deepEqual(errors, [], 'no errors in the browser console');
  } catch (err) {
    await page.screenshot({ path: `${SCREENSHOTS}/ptz-failed.png` }).catch(() => {});
    t.diagnostic(`camgate log (last 40 lines):\n${gateway.log.slice(-40).join('\n')}`);
    t.diagnostic(`console errors: ${JSON.stringify(errors)}`);
    t.diagnostic(`window.camgate.ptz: ${JSON.stringify(await ptzState(page).catch(() => null))}`);
    throw err;
  }
});

// parseMatrix reads a computed transform ("matrix(a, b, c, d, e, f)";
// e and f are the translation in pixels); Node has no DOMMatrix.
function parseMatrix(s) {
  const m = /^matrix\(([^)]+)\)$/.exec(s);
  if (!m) return { e: 0, f: 0 };
  const [a, b, c, d, e, f] = m[1].split(',').map(Number);
  return { a, b, c, d, e, f };
}
