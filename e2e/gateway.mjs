// Runs bin/camgate for a browser test: the browser tests' configuration
// (e2e/config) in demo mode (--demo) with a temporary data folder, its URL once it listens, its log for
// failure reports, and a stop that never hangs the suite.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

// CAMGATE_BIN lets the same tests drive another build of the gateway.
const BIN = process.env.CAMGATE_BIN ?? 'bin/camgate';
export const DEMO_CAMERA = 'A364956F-39A5-4CBC-9FFE-55B0C802CA77';

// startGateway runs camgate and resolves once it listens and the demo
// camera streams. It returns {url, log, token, demo, stop, listeningMs,
// streamingMs}: log keeps every line camgate printed, token is the demo
// user's access token, demo the demo camera as the camera list shows it,
// listeningMs and streamingMs how long after the start camgate listened and
// the demo camera streamed. env adds environment variables (CAMGATE__…
// settings), args command-line flags (--demo-listen …). dataDir, when given,
// is the data folder to use and keep (a restart reuses it); otherwise a
// temporary one is made, and removed by stop.
export async function startGateway({ name = 'camgate', env = {}, args = [], dataDir: keptDir } = {}) {
  const dataDir = keptDir ?? await mkdtemp(join(tmpdir(), `camgate-e2e-${name}-`));
  const log = [];
  const t0 = Date.now();
  const proc = spawn(BIN, ['--config', 'e2e/config', '--demo', ...args], {
    env: { ...process.env, CAMGATE__DataDir: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 4_000); // shutdown must not hang the suite
      await exited;
      clearTimeout(timer);
    }
    if (!keptDir) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening on" line within 10 s:\n${log.join('\n')}`)), 10_000);
      proc.once('error', reject);
      proc.once('exit', (code, signal) =>
        reject(new Error(`camgate exited (${code ?? signal}) before listening:\n${log.join('\n')}`)));
      for (const stream of [proc.stdout, proc.stderr]) {
        createInterface({ input: stream }).on('line', (line) => {
          log.push(line);
          const m = /listening on (http:\/\/\S+\/)/.exec(line);
          if (m) { clearTimeout(timer); resolve(m[1]); }
        });
      }
    });
    const listeningMs = Date.now() - t0;
    const { token, demo } = await waitForStreaming(url, 10_000);
    return { url, log, token, demo, stop, listeningMs, streamingMs: Date.now() - t0 };
  } catch (err) {
    await stop();
    throw err;
  }
}

// freePort asks the kernel for a free loopback port (for a gateway that
// must come back on the same one: CAMGATE__Http__Listen).
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// waitForStreaming signs in as the demo user and polls the camera list
// until the demo camera streams.
async function waitForStreaming(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const tokenRes = await fetch(new URL('API/IDP/connect/token', url), {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', username: 'demo', password: 'demo', client_id: 'GrantValidatorClient' }),
  });
  assert.equal(tokenRes.status, 200, 'the demo user signs in at the token endpoint');
  const { access_token: token } = await tokenRes.json();
  for (;;) {
    const res = await fetch(new URL('API/rest/v1/cameras', url), { headers: { Authorization: `Bearer ${token}` } });
    const { array: cameras } = await res.json(); // XProtect's collection envelope
    const demo = cameras.find((c) => c.id.toUpperCase() === DEMO_CAMERA);
    if (demo?.state === 'streaming') return { token, demo };
    if (Date.now() > deadline) throw new Error(`demo camera not streaming after ${timeoutMs} ms: ${JSON.stringify(demo)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
