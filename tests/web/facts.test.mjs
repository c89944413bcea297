// What the lessons claim about browsers, checked in Debian's chromium:
// - the six-connections-per-origin limit of HTTP/1.1, shown with the demo
//   page as lesson 7 tells attendees to try it: each open page holds two
//   HTTP connections for good (its event stream and its long poll), so three
//   pages hold six, and a fourth page cannot even load until one closes;
//   WebSocket connections are not in that pool;
// - EventSource gives up for good on a non-200 answer, a wrong Content-Type
//   or a 204 (lesson 4), and the demo page reconnects anyway.
// Usage: node --test-reporter=tap facts.test.mjs <pushlab-server> <web root>
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as h from './harness.mjs';

const [exe, webRoot] = process.argv.slice(2);
if (!exe || !webRoot) {
  console.log('Bail out! usage: facts.test.mjs <pushlab-server> <web root>');
  process.exit(1);
}
const { chromium } = await h.loadPlaywright();

let server, browser;

before(async () => {
  server = await h.startServer(exe, path.resolve(webRoot));
  browser = await h.launchBrowser(chromium);
});

after(async () => {
  if (browser) await browser.close();
  if (server) assert.equal(await h.stopServer(server), 0, 'the server stops cleanly on SIGTERM');
});

// HTTP connections the server holds open for pages: SSE streams and parked
// long polls; and WebSocket connections, counted apart.
async function held() {
  const t = (await (await fetch(`${server.http}/api/stats`)).json()).transports;
  return { http: t.sse.connections + t.long_poll.waiting, ws: t.ws.connections };
}

async function waitHeld(want) {
  const until = Date.now() + 10000;
  let got;
  while (Date.now() < until) {
    got = await held();
    if (got.http === want.http && got.ws === want.ws) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
  return got;
}

test('three pages hold six connections; the fourth page stalls until one closes', async () => {
  const url = `${server.http}/?room=six`;
  const pages = [];
  try {
    for (let i = 1; i <= 3; i++) {
      const p = await browser.context.newPage();
      pages.push(p);
      await p.goto(url);
      await p.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
      assert.deepEqual(await waitHeld({ http: 2 * i, ws: i }), { http: 2 * i, ws: i }, `page ${i}: two held HTTP connections each`);
    }
    // A message completes the three long polls, which ask again at once;
    // once every page shows it and the server holds six again, no 25 s
    // timeout can free a connection during what follows.
    const msg = await h.publish(server.http, 'six', 'ann', 'restart the long polls');
    for (const p of pages) await p.waitForSelector(`#panel-long_poll li.msg[data-id="${msg.id}"]`, { timeout: 15000 });
    assert.deepEqual(await waitHeld({ http: 6, ws: 3 }), { http: 6, ws: 3 });
    const fourth = await browser.context.newPage();
    pages.push(fourth);
    let answered = 0; // responses the fourth page got, its document first
    fourth.on('response', () => answered++);
    const t0 = Date.now();
    const loading = fourth.goto(url, { timeout: 30000 }).then(() => Date.now() - t0);
    // The seventh connection: the fourth page's own document waits in the
    // browser's queue, so nothing of it arrives. (Nothing may be evaluated
    // in the page meanwhile: that would wait for the navigation.)
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(answered, 0, 'after 3 s not even the fourth page\'s HTML has arrived');
    assert.equal(fourth.url(), 'about:blank');
    assert.deepEqual(await held(), { http: 6, ws: 3 }, 'still six held, no seventh');
    const closed = Date.now() - t0;
    await pages.shift().close(); // frees two connections
    const waited = await loading;
    assert.ok(waited >= closed, `the fourth page loaded only after the first closed (${waited} ms)`);
    assert.ok(waited - closed < 5000, `and soon after it, not at a long poll's 25 s timeout (${waited - closed} ms)`);
    await fourth.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
    assert.deepEqual(await waitHeld({ http: 6, ws: 3 }), { http: 6, ws: 3 }, 'pages 2, 3 and 4 hold six again');
    await fourth.screenshot({ path: h.screenshotPath('six-fourth-loaded'), fullPage: false });
  } finally {
    // Pages left open would hold the origin's connections for later tests.
    for (const p of pages) await p.close();
  }
});

test('WebSocket connections do not count against the six', async () => {
  // One page holding six HTTP streams itself: an event stream per room.
  const p = await browser.context.newPage();
  await p.goto(`${server.http}/report.html`);
  await p.evaluate(() => {
    window.streams = [1, 2, 3, 4, 5, 6].map((i) => new EventSource(`/api/rooms/six-es-${i}/events`));
  });
  assert.deepEqual(await waitHeld({ http: 6, ws: 0 }), { http: 6, ws: 0 });
  const wsOpened = await p.evaluate(async (wsUrl) => {
    const ws = new WebSocket(`${wsUrl}/ws/six-ws`);
    return new Promise((resolve) => {
      ws.onopen = () => resolve(true);
      ws.onerror = () => resolve(false);
      setTimeout(() => resolve(false), 5000);
    });
  }, server.ws);
  assert.equal(wsOpened, true, 'a WebSocket opens while six HTTP connections are held');
  const seventh = await p.evaluate(async () => {
    const c = new AbortController();
    setTimeout(() => c.abort(), 2000);
    try {
      await fetch('/healthz', { signal: c.signal, cache: 'no-store' });
      return 'answered';
    } catch {
      return 'stalled';
    }
  });
  assert.equal(seventh, 'stalled', 'but a seventh HTTP request waits');
  await p.close();
});

// An EventSource on a URL whose answers the test chooses: how many requests
// it made in 3 s and the readyState it ended in (2 = CLOSED).
async function eventSourceAgainst(answer) {
  const p = await browser.context.newPage();
  await p.goto(`${server.http}/report.html`);
  let hits = 0;
  await p.route('**/api/rooms/es-fact/events*', (r) => {
    hits++;
    return r.fulfill(answer);
  });
  const state = await p.evaluate(() => new Promise((resolve) => {
    const es = new EventSource('/api/rooms/es-fact/events');
    es.onerror = () => setTimeout(() => resolve(es.readyState), 3000);
  }));
  await p.close();
  return { hits, state };
}

for (const [what, answer] of [
  ['a 502 from a proxy', { status: 502, contentType: 'text/html', body: '<h1>Bad Gateway</h1>' }],
  ['a 200 that is not text/event-stream', { status: 200, contentType: 'text/html', body: '<p>login</p>' }],
  ['a 204', { status: 204, body: '' }],
]) {
  test(`EventSource gives up for good on ${what}`, async () => {
    assert.deepEqual(await eventSourceAgainst(answer), { hits: 1, state: 2 }, 'one request, then CLOSED');
  });
}

test('EventSource does retry a stream that ended after working', async () => {
  const got = await eventSourceAgainst({ status: 200, contentType: 'text/event-stream', body: 'retry: 200\n\n' });
  assert.ok(got.hits >= 2, `asked again (${got.hits} requests)`);
});

test('the demo page opens a new event stream after its EventSource gave up on a 502', async () => {
  const p = await browser.context.newPage();
  let refused = 0;
  await p.route('**/api/rooms/es-page/events*', (r) => (refused++ === 0
    ? r.fulfill({ status: 502, contentType: 'text/html', body: 'deploying' }) : r.continue()));
  await p.goto(`${server.http}/?room=es-page`);
  await p.waitForSelector('body[data-ready="1"]', { timeout: 10000 });
  await p.waitForFunction(() => document.querySelector('#panel-sse .state').textContent === 'streaming', null, { timeout: 10000 });
  assert.equal(refused, 2, 'the refused stream and the page\'s own retry');
  assert.match(await p.textContent('#panel-sse .messages'), /refused the event stream/);
  const res = await fetch(`${server.http}/api/rooms/es-page/messages`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'ann', text: 'after the deploy' }) });
  const msg = await res.json();
  await p.waitForSelector(`#panel-sse li.msg[data-id="${msg.id}"]`, { timeout: 10000 });
  await p.close();
});
