// Shared by the browser tests: start Debian's Chromium with the flags that
// make WebRTC work on loopback, headless and without a sandbox.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

// --allow-loopback-in-peer-connection: without it Chromium never offers or
// accepts 127.0.0.1 candidates, and loopback is all the test namespace has.
// The rest keeps a headless, sandbox-less browser quiet and off the network.
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
];

// launch opens Chromium with a fresh profile and returns the page plus the
// console errors it has seen so far (an array that keeps filling).
export async function launch() {
  const profile = await mkdtemp(join(tmpdir(), 'camgate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 720 },
    timeout: 15_000,
  });
  context.setDefaultTimeout(15_000);
  // Without the grant Chromium hides its host addresses behind mDNS names
  // (or gathers nothing on loopback), and ICE never connects.
  await context.grantPermissions(['camera', 'microphone']);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  const close = async () => {
    await context.close().catch(() => {});
    await rm(profile, { recursive: true, force: true }).catch(() => {});
  };
  return { context, page, errors, close };
}

// waitForPlayback resolves when the <video> matching selector shows frames
// and its clock advances, i.e. the stream is really playing, not frozen.
export async function waitForPlayback(page, selector, { timeout = 20_000 } = {}) {
  await page.waitForFunction(
    (sel) => { const v = document.querySelector(sel); return v && v.videoWidth > 0 && v.currentTime > 0; },
    selector, { timeout, polling: 100 });
  const t0 = await page.$eval(selector, (v) => v.currentTime);
  await page.waitForTimeout(2_000);
  const v = await page.$eval(selector, (v) => ({ t: v.currentTime, w: v.videoWidth, h: v.videoHeight }));
  return { ...v, advanced: v.t - t0 };
}
