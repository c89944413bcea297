// The demo page behind nginx (docs/deploy/pushlab.conf), in headless Debian
// chromium that trusts a CA made for the test (an NSS database in $HOME):
// over https and wss, and the connection limit that HTTP/2 lifts. Run by
// tests/deploy/test_browser.py, which starts the server and nginx.
// Usage: node --test-reporter=tap deploy.test.mjs <https base> <http base> <backend> <home>
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as h from './harness.mjs';

const [httpsBase, httpBase, backend, home] = process.argv.slice(2);
if (!home) {
  console.log('Bail out! usage: deploy.test.mjs <https base> <http base> <backend> <home>');
  process.exit(1);
}
const { chromium } = await h.loadPlaywright();
const PANELS = ['short_poll', 'long_poll', 'sse', 'ws'];
let context, profile;

before(async () => {
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pushlab-deploy-web-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    env: { ...process.env, HOME: home }, // its NSS database trusts the test CA
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (context) await context.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
});

async function open(base, room, ready = true) {
  const page = await context.newPage();
  // A stalled page may never finish loading: then only wait for its start.
  await page.goto(`${base}/?room=${room}`, { waitUntil: ready ? 'load' : 'commit' });
  if (ready) await page.waitForSelector('body[data-ready="1"]', { timeout: 10000 });
  return page;
}

// Which panels of `page` show message `id` within `ms`.
async function panelsWith(page, id, ms) {
  const seen = await Promise.all(PANELS.map((p) =>
    page.waitForSelector(`#panel-${p} .messages li.msg[data-id="${id}"]`, { timeout: ms })
      .then(() => p, () => null)));
  return seen.filter(Boolean);
}

test('over https through nginx all four panels get the same id, the WebSocket over wss', async () => {
  const page = await open(httpsBase, 'tls-page');
  const wsUrls = [];
  page.on('websocket', (ws) => wsUrls.push(ws.url()));
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]', { timeout: 10000 });
  await page.waitForTimeout(500);
  const m = await h.publish(backend, 'tls-page', 'ann', 'over TLS');
  assert.deepEqual(await panelsWith(page, m.id, 15000), PANELS);
  assert.ok(wsUrls.length > 0 && wsUrls.every((u) => u.startsWith('wss://')), wsUrls.join(' '));
  await page.screenshot({ path: h.screenshotPath('deploy-https'), fullPage: true });
  await page.close();
});

// Each page holds an EventSource and a long poll open: two connections of
// the six Chromium allows per origin over HTTP/1.1.
// A page stalled behind the others may not even load its scripts.
async function eightPages(base, room) {
  const pages = [];
  for (let i = 0; i < 8; i++) pages.push(await open(base, room, false));
  await pages[0].waitForTimeout(1500);
  const m = await h.publish(backend, room, 'bob', 'to eight pages');
  const seen = await Promise.all(pages.map((p) => panelsWith(p, m.id, 8000)));
  await pages[7].screenshot({ path: h.screenshotPath(`deploy-eight-${base.split(':')[0]}`) });
  await Promise.all(pages.map((p) => p.close()));
  return seen;
}

test('eight pages over HTTP/1.1 stall past the sixth connection to one origin', async () => {
  const seen = await eightPages(httpBase, 'eight-h1');
  const overHttp = (s) => s.filter((p) => p !== 'ws');
  const stalled = seen.filter((s) => overHttp(s).length === 0).length;
  assert.ok(stalled >= 1, `every page got the message over HTTP/1.1: ${JSON.stringify(seen)}`);
  assert.ok(seen[0].includes('sse'), `not even the first page worked: ${JSON.stringify(seen)}`);
});

test('the same eight pages over HTTP/2 all get the message on every panel', async () => {
  const seen = await eightPages(httpsBase, 'eight-h2');
  assert.deepEqual(seen, Array(8).fill(PANELS));
});
