// Shared pieces of the browser tests: start the real pushlab-server on free
// ports (waiting for its listening line, never sleeping) and launch Debian's
// chromium headless with a fresh profile through playwright-core.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = path.join(HERE, 'artifacts');

/** playwright-core from ./node_modules, or exit 1 saying how to install it. */
export async function loadPlaywright() {
  try {
    return await import('playwright-core');
  } catch {
    console.log('Bail out! tests/web/node_modules is missing: run `npm ci` in tests/web');
    process.exit(1);
  }
}

/**
 * Starts `exe` serving `webRoot` on `ports` (free ones by default); resolves
 * to { proc, http, ws, ports } once it prints its listening line.
 */
export function startServer(exe, webRoot, ports = { http: 0, ws: 0 }) {
  const args = ['--http-port', String(ports.http), '--ws-port', String(ports.ws), '--web-root', webRoot];
  const proc = spawn(exe, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no listening line in 10 s')), 10000);
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = /^pushlab-server listening http=(\S+) ws=(\S+)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      const port = (url) => Number(new URL(url).port);
      resolve({ proc, http: m[1], ws: m[2], ports: { http: port(m[1]), ws: port(m[2]) } });
    });
  });
}

/**
 * SIGTERM, then the exit code (the protocol says a clean stop exits 0). A
 * server still running 10 s later is killed, and the answer says so.
 */
export function stopServer(server) {
  return new Promise((resolve) => {
    if (server.proc.exitCode !== null) return resolve(server.proc.exitCode);
    const timer = setTimeout(() => {
      server.proc.kill('SIGKILL');
      resolve('still running 10 s after SIGTERM');
    }, 10000);
    server.proc.removeAllListeners('exit');
    server.proc.on('exit', (code, sig) => {
      clearTimeout(timer);
      resolve(code ?? sig);
    });
    server.proc.kill('SIGTERM');
  });
}

/** Headless chromium with a fresh --user-data-dir; returns { context, close }. */
export async function launchBrowser(chromium) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pushlab-web-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Publishes from the test itself (not the page); resolves to the stored message. */
export async function publish(http, room, user, text) {
  const res = await fetch(`${http}/api/rooms/${room}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user, text }),
  });
  if (res.status !== 201) throw new Error(`publish: HTTP ${res.status}`);
  return res.json();
}

export function screenshotPath(name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, `${name}.png`);
}
