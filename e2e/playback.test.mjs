// Playback in a real browser: camgate records its demo camera (the demo
// records by default), the page plays the recording from 15 s ago at 4×,
// and its frame clock (playbackTime + the RTP timestamp of each frame, as
// the XProtect sample computes it) shows a time in the past that advances
// faster than real time. Run by e2e/run.sh in a loopback-only namespace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { launch, waitForPlayback } from './browser.mjs';
import { DEMO_CAMERA, startGateway } from './gateway.mjs';

const SCREENSHOTS = 'e2e/screenshots';
const RECORDED_MS = 20_000; // how much recording the test waits for
const BACK_MS = 15_000; // it plays from this long ago
const SPEED = 4;

let gateway, browser, url, token;

// recorded returns the demo camera's spans of the last 24 hours, from the
// recordings endpoint.
async function recorded() {
  const res = await fetch(new URL(`API/rest/v1/cameras/${DEMO_CAMERA}/recordings`, url), { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, 'GET recordings');
  return (await res.json()).spans.map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) }));
}

async function waitForRecording(ms, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = await recorded();
    const last = spans.at(-1);
    if (last && last.end - last.start >= ms) return last;
    if (Date.now() > deadline) throw new Error(`the demo camera has not recorded ${ms} ms after ${timeoutMs} ms: ${JSON.stringify(spans)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

before(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  gateway = await startGateway({ name: 'playback' }); // signs the demo user in at the token endpoint
  ({ url, token } = gateway);
  browser = await launch();
}, { timeout: 25_000 });

after(async () => {
  await browser?.close();
  await gateway?.stop();
});

test('the page plays the recording at 4x with a frame clock in the past', { timeout: 75_000 }, async (t) => {
  const { page, errors } = browser;
  try {
    await page.goto(`${url}#camera=${DEMO_CAMERA}`); // the camera view (the grid is the landing view)
    await page.getByLabel('User name').fill('demo');
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await waitForPlayback(page, '#video', { timeout: 20_000 });

    // Live: the same clock counts from the session's start, so it shows
    // about now.
    await page.waitForFunction(() => window.camgate.frameClock !== null && window.camgate.playback === null);
    const live = await page.evaluate(() => ({ clock: window.camgate.frameClock, now: Date.now() }));
    t.diagnostic(`live frame clock ${new Date(live.clock).toISOString()} at ${new Date(live.now).toISOString()}`);
    assert.ok(Math.abs(live.now - live.clock) < 5_000, `live frame clock ${live.now - live.clock} ms off`);

    const span = await waitForRecording(RECORDED_MS, 40_000);
    t.diagnostic(`recorded ${new Date(span.start).toISOString()} – ${new Date(span.end).toISOString()}`);

    // "Play from" defaults to a time inside the recordings (the demo has
    // recorded for less than the 2 minutes a default would go back).
    const form = page.getByRole('region', { name: 'Playback' });
    await page.waitForFunction(() => window.camgate.timeline?.spans > 0, null, { timeout: 15_000 });
    const first = (await recorded())[0];
    const preset = await page.evaluate(() => new Date(document.querySelector('input[name=from]').value).getTime());
    t.diagnostic(`"Play from" preset ${new Date(preset).toISOString()}, recordings from ${new Date(first.start).toISOString()}`);
    assert.ok(preset >= first.start && preset <= Date.now(), `"Play from" is ${(first.start - preset) / 1000} s before the first recording`);

    // Play from 15 s ago at 4x, through the form as a user would.
    const from = Date.now() - BACK_MS;
    const value = await page.evaluate((ms) => {
      const d = new Date(ms);
      const p = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    }, from);
    const requested = Math.floor(from / 1000) * 1000; // the input has whole seconds
    await form.getByLabel('Play from').fill(value);
    await form.getByLabel('Speed').selectOption(String(SPEED));
    await form.getByRole('button', { name: 'Play', exact: true }).click();

    await page.waitForFunction(() => window.camgate.playback !== null && window.camgate.frameClock !== null
      && window.camgate.state === 'playing', null, { timeout: 15_000 });
    const a = await page.evaluate(() => ({ clock: window.camgate.frameClock, now: Date.now(), playback: window.camgate.playback }));
    await page.waitForTimeout(2_000);
    const b = await page.evaluate(() => ({ clock: window.camgate.frameClock, now: Date.now(), text: document.querySelector('.frame-clock').textContent }));
    const rate = (b.clock - a.clock) / (b.now - a.now);
    t.diagnostic(`requested ${new Date(requested).toISOString()} (${JSON.stringify(a.playback)}); clock ${new Date(a.clock).toISOString()} → ${new Date(b.clock).toISOString()} in ${b.now - a.now} ms: ${rate.toFixed(2)}x; shown "${b.text}"`);
    assert.equal(a.playback.speed, SPEED);
    assert.equal(Date.parse(a.playback.time), requested);
    // The frames from the keyframe before the requested time (the demo has
    // one every 4 s) come as a fast-forward stamped from the requested time
    // on: the clock never shows a time before it, and it is well in the past.
    assert.ok(a.clock >= requested && a.clock < requested + 4_500, `frame clock ${a.clock - requested} ms from the requested time`);
    assert.ok(a.clock < a.now - 5_000, `frame clock only ${a.now - a.clock} ms in the past`);
    assert.ok(b.clock < b.now - 1_000, 'still in the past two seconds later');
    assert.ok(rate > 1.5, `the frame clock advanced ${rate.toFixed(2)}x as fast as real time, want about ${SPEED}x`);
    assert.match(b.text, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    assert.match(await form.locator('.clock-mode').textContent(), /Recorded · 4×/);
    await page.screenshot({ path: `${SCREENSHOTS}/playback.png`, fullPage: true });

    // The timeline: zoomed to 10 min, a click 10 s back plays the
    // recording from there, and the frame clock shows that time.
    const tl = page.getByRole('region', { name: 'Timeline' });
    await tl.getByRole('button', { name: '10 min' }).click();
    await page.waitForFunction(() => window.camgate.timeline?.spans > 0, null, { timeout: 15_000 });
    // A new speed applies at once, without Play: a new session from the
    // frame on screen.
    const shown = await page.evaluate(() => window.camgate.frameClock);
    await form.getByLabel('Speed').selectOption('1');
    await page.waitForFunction((old) => window.camgate.playback?.speed === 1 && window.camgate.state === 'playing'
      && window.camgate.frameClock !== null && window.camgate.frameClock >= old, shown, { timeout: 15_000 });
    const resumed = await page.evaluate(() => ({ clock: window.camgate.frameClock, playback: window.camgate.playback }));
    t.diagnostic(`speed 1x at once: from ${resumed.playback.time} (was showing ${new Date(shown).toISOString()})`);
    assert.ok(Date.parse(resumed.playback.time) >= shown - 1, 'the new speed resumes from the frame on screen');
    assert.match(await form.locator('.clock-mode').textContent(), /Recorded · 1×/);
    const bar = await tl.locator('.timeline-bar').boundingBox();
    const xAt = async (ms) => {
      const w = await page.evaluate(() => window.camgate.timeline);
      return bar.x + ((ms - w.from) / (w.to - w.from)) * bar.width;
    };
    const target = Date.now() - 10_000;
    await page.mouse.click(await xAt(target), bar.y + bar.height / 2);
    await page.waitForFunction((old) => window.camgate.playback !== null && window.camgate.playback.time !== old
      && window.camgate.state === 'playing' && window.camgate.frameClock !== null, resumed.playback.time, { timeout: 15_000 });
    const c = await page.evaluate(() => ({ clock: window.camgate.frameClock, now: Date.now(), playback: window.camgate.playback }));
    const asked = Date.parse(c.playback.time);
    t.diagnostic(`timeline click at ${new Date(target).toISOString()}: playback from ${c.playback.time}, frame clock ${new Date(c.clock).toISOString()}`);
    assert.ok(Math.abs(asked - target) < 3_000, `the click asked for ${asked - target} ms from the time under the pointer`);
    assert.equal(c.playback.speed, 1);
    assert.ok(c.clock >= asked && c.clock <= asked + 4_000, `frame clock ${c.clock - asked} ms from the time clicked`);
    assert.ok(c.clock < c.now - 4_000, 'the frame clock shows the recorded time, not now');
    await page.waitForTimeout(1_000);
    assert.ok((await page.evaluate(() => window.camgate.frameClock)) > c.clock, 'the recorded frame clock advances');
    await page.screenshot({ path: `${SCREENSHOTS}/timeline.png`, fullPage: true });

    // Shift+drag selects a range; Export downloads it as an MP4.
    const y = bar.y + bar.height / 2;
    const x0 = await xAt(Date.now() - 14_000);
    const x1 = await xAt(Date.now() - 6_000);
    await page.keyboard.down('Shift');
    await page.mouse.move(x0, y);
    await page.mouse.down();
    await page.mouse.move((x0 + x1) / 2, y);
    await page.mouse.move(x1, y);
    await page.mouse.up();
    await page.keyboard.up('Shift');
    const exportButton = tl.getByRole('button', { name: /^Export \d/ });
    const [dl] = await Promise.all([page.waitForEvent('download'), exportButton.click()]);
    await page.waitForFunction(() => window.camgate.exported?.size > 0);
    const exported = await page.evaluate(() => window.camgate.exported);
    t.diagnostic(`exported ${dl.suggestedFilename()}: ${exported.size} bytes (${JSON.stringify(await page.evaluate(() => window.camgate.timelineSelection))})`);
    assert.match(dl.suggestedFilename(), /\.mp4$/);
    assert.ok(exported.size > 10_000, `the export has ${exported.size} bytes`);

    // By keyboard: the bar focused, ← moves a cursor back (1/100 of the
    // window: 6 s at 10 min) from the frame on screen, Enter plays from it.
    await tl.locator('.timeline-bar').focus();
    await page.keyboard.press('Escape'); // no cursor, no selection (and still the camera view)
    assert.equal(await page.evaluate(() => window.camgate.view), 'camera');
    const k0 = await page.evaluate(() => ({ clock: window.camgate.frameClock, time: window.camgate.playback.time }));
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Enter');
    await page.waitForFunction((old) => window.camgate.playback?.time !== old && window.camgate.state === 'playing'
      && window.camgate.frameClock !== null, k0.time, { timeout: 15_000 });
    const k1 = await page.evaluate(() => ({ clock: window.camgate.frameClock, time: Date.parse(window.camgate.playback.time) }));
    t.diagnostic(`keyboard: frame ${new Date(k0.clock).toISOString()}, ← Enter plays from ${new Date(k1.time).toISOString()}`);
    assert.ok(Math.abs(k1.time - (k0.clock - 6_000)) < 2_000, `← Enter asked for ${k1.time - k0.clock} ms from the frame shown`);

    // Back to live: the clock shows about now again.
    await form.getByRole('button', { name: 'Back to live' }).click();
    await page.waitForFunction(() => window.camgate.playback === null && window.camgate.frameClock !== null
      && Math.abs(Date.now() - window.camgate.frameClock) < 5_000, null, { timeout: 15_000 });

    assert.deepEqual(errors, [], 'no errors in the browser console');
  } catch (err) {
    await page.screenshot({ path: `${SCREENSHOTS}/playback-failed.png` }).catch(() => {});
    t.diagnostic(`camgate log (last 40 lines):\n${gateway.log.slice(-40).join('\n')}`);
    t.diagnostic(`console errors: ${JSON.stringify(errors)}`);
    throw err;
  }
});

// The same over WebSocket signaling (?signaling=ws): a time before the
// oldest recording is refused with the recorded range and not retried,
// and a time inside plays at 1x.
test('over WebSocket signaling, a refused time says why and a good one plays', { timeout: 45_000 }, async (t) => {
  const { page, errors } = browser;
  try {
    await page.goto(`${url}?signaling=ws#camera=${DEMO_CAMERA}`);
    if (await page.locator('#sign-in').isVisible()) {
      await page.getByLabel('User name').fill('demo');
      await page.getByLabel('Password').fill('demo');
      await page.getByRole('button', { name: 'Sign in' }).click();
    }
    await waitForPlayback(page, '#video', { timeout: 20_000 });
    const form = page.getByRole('region', { name: 'Playback' });

    // The recording is younger than a minute: −1 min is before it.
    await form.getByRole('button', { name: '−1 min' }).click();
    await page.waitForFunction(() => window.camgate.state === 'refused', null, { timeout: 10_000 });
    const note = await form.locator('.playback-note').textContent();
    t.diagnostic(`refused: ${note}`);
    assert.match(note, /before the oldest recording; recordings are available from/);
    await page.waitForTimeout(2_000);
    assert.equal(await page.evaluate(() => window.camgate.state), 'refused', 'a refused playback is not retried');

    const from = Date.now() - 10_000;
    const value = await page.evaluate((ms) => {
      const d = new Date(ms);
      const p = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    }, from);
    await form.getByLabel('Play from').fill(value);
    await form.getByLabel('Speed').selectOption('1');
    await form.getByRole('button', { name: 'Play', exact: true }).click();
    await page.waitForFunction(() => window.camgate.state === 'playing' && window.camgate.playback !== null
      && window.camgate.frameClock !== null && window.camgate.signaling === 'ws', null, { timeout: 15_000 });
    const a = await page.evaluate(() => ({ clock: window.camgate.frameClock, now: Date.now() }));
    await page.waitForTimeout(3_000);
    const b = await page.evaluate(() => ({ clock: window.camgate.frameClock, now: Date.now() }));
    const rate = (b.clock - a.clock) / (b.now - a.now);
    t.diagnostic(`clock ${new Date(a.clock).toISOString()} → ${new Date(b.clock).toISOString()}: ${rate.toFixed(2)}x`);
    assert.ok(a.clock < a.now - 5_000 && b.clock < b.now - 5_000, 'the clock shows the past');
    assert.ok(rate > 0.5 && rate < 2, `the frame clock advanced ${rate.toFixed(2)}x as fast as real time, want about 1x`);
    assert.deepEqual(errors, [], 'no errors in the browser console');
  } catch (err) {
    await page.screenshot({ path: `${SCREENSHOTS}/playback-failed.png` }).catch(() => {});
    t.diagnostic(`camgate log (last 40 lines):\n${gateway.log.slice(-40).join('\n')}`);
    t.diagnostic(`console errors: ${JSON.stringify(errors)}`);
    throw err;
  }
});
