// End-to-end specification of the demo page, in headless Debian chromium
// against the real pushlab-server on free ports.
// Usage: node --test-reporter=tap e2e.test.mjs <pushlab-server> <web root>
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as h from './harness.mjs';

const [exe, webRoot] = process.argv.slice(2);
if (!exe || !webRoot) {
  console.log('Bail out! usage: e2e.test.mjs <pushlab-server> <web root>');
  process.exit(1);
}
const { chromium } = await h.loadPlaywright();
const PANELS = ['short_poll', 'long_poll', 'sse', 'ws'];

let server, browser, page;
const pageErrors = [];

// Every test gets its own room, so ids start at 1 and tests stay independent.
async function openRoom(room) {
  await page.goto(`${server.http}/?room=${room}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 10000 });
  await Promise.all(PANELS.map((p) =>
    page.waitForFunction((p) => !/connecting|handshake/.test(
      document.querySelector(`#panel-${p} .state`).textContent), p, { timeout: 10000 })));
  // The short poll ticks every 250 ms so each test finishes quickly.
  await page.locator('#panel-short_poll .interval input').fill('250');
}

// The ids of the message rows in a panel, in display order.
function ids(panel) {
  return page.$$eval(`#panel-${panel} .messages li.msg`, (lis) => lis.map((li) => Number(li.dataset.id)));
}

function counter(panel, key) {
  return page.textContent(`#panel-${panel} [data-k="${key}"]`);
}

async function waitForId(panel, id) {
  await page.waitForSelector(`#panel-${panel} .messages li.msg[data-id="${id}"]`, { timeout: 15000 });
}

before(async () => {
  server = await h.startServer(exe, path.resolve(webRoot));
  browser = await h.launchBrowser(chromium);
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => {
    pageErrors.push(`dialog: ${d.message()}`);
    d.dismiss();
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) assert.equal(await h.stopServer(server), 0, 'the server stops cleanly on SIGTERM');
});

test('a message sent from the composer shows in all four panels with the same id', async () => {
  await openRoom('e2e-compose');
  await page.fill('#user', 'ann');
  await page.fill('#text', 'hello from the composer');
  await page.press('#text', 'Enter'); // Enter sends
  await page.waitForFunction(() => /published #\d+/.test(document.querySelector('#publish-status').textContent));
  const id = Number(/#(\d+)/.exec(await page.textContent('#publish-status'))[1]);
  for (const p of PANELS) {
    await waitForId(p, id);
    const row = page.locator(`#panel-${p} li.msg[data-id="${id}"]`);
    assert.equal(await row.locator('.text').textContent(), 'hello from the composer', p);
    assert.equal(await row.locator('.user').textContent(), 'ann', p);
  }
  assert.equal(await page.inputValue('#text'), '', 'the message field is cleared after sending');
  await page.screenshot({ path: h.screenshotPath('index-compose'), fullPage: true });
});

for (const p of PANELS) {
  test(`${p}: disconnect and reconnect resumes after the last id, no gap, no duplicate`, async () => {
    const room = `e2e-resume-${p.replace('_', '-')}`;
    await openRoom(room);
    const first = await h.publish(server.http, room, 'bob', 'before');
    await waitForId(p, first.id);
    await page.click(`#panel-${p} .toggle`);
    assert.match(await page.textContent(`#panel-${p} .toggle`), new RegExp(`reconnect from #${first.id}`));
    for (let i = 0; i < 5; i++) await h.publish(server.http, room, 'bob', `while away ${i}`);
    await page.click(`#panel-${p} .toggle`);
    let last;
    for (let i = 0; i < 3; i++) last = await h.publish(server.http, room, 'bob', `after ${i}`);
    await waitForId(p, last.id);
    const got = await ids(p);
    assert.deepEqual(got, Array.from({ length: last.id }, (_, i) => i + 1), 'every id once, in order');
    assert.equal(await counter(p, 'gaps'), '0');
    assert.equal(await counter(p, 'dups'), '0');
    assert.equal(await page.locator(`#panel-${p} .note.gap, #panel-${p} .note.dup`).count(), 0);
  });
}

test('a disconnect and reconnect in one go leaves exactly one subscription per panel', async () => {
  const room = 'e2e-rapid';
  await openRoom(room);
  await page.evaluate(() => {
    for (const p of Object.values(window.pushlab.panels)) {
      p.disconnect();
      p.connect();
    }
  });
  const a = await h.publish(server.http, room, 'dee', 'one');
  for (const p of PANELS) await waitForId(p, a.id);
  // Longer than the page's 2 s retry delay: a stale socket's close handler
  // would have opened a second subscription by then.
  await page.waitForTimeout(2500);
  const b = await h.publish(server.http, room, 'dee', 'two');
  for (const p of PANELS) {
    await waitForId(p, b.id);
    assert.deepEqual(await ids(p), [a.id, b.id], p);
    assert.equal(await counter(p, 'dups'), '0', p);
  }
  assert.equal(await counter('sse', 'requests'), '2', 'sse: the first stream and the reconnect');
  assert.equal(await counter('ws', 'requests'), '2', 'ws: the first handshake and the reconnect');
});

test('a burst of 100 reaches every panel complete and in order', async () => {
  await openRoom('e2e-burst');
  await page.click('#panel-sse .burst');
  for (const p of PANELS) await waitForId(p, 100);
  for (const p of PANELS) {
    assert.deepEqual(await ids(p), Array.from({ length: 100 }, (_, i) => i + 1), p);
    assert.equal(await counter(p, 'messages'), '100', p);
    assert.equal(await counter(p, 'gaps'), '0', p);
  }
  await page.screenshot({ path: h.screenshotPath('index-burst'), fullPage: true });
});

test('a gap in the ids is detected and shown', async () => {
  // The page's own check, fed directly: ids 1, 2, then 5.
  await openRoom('e2e-gap');
  await page.evaluate(() => {
    const panel = window.pushlab.panels.ws;
    for (const id of [1, 2, 5, 5]) panel.deliver({ id, user: 'x', text: 't', ts: Date.now() * 1000 });
  });
  await page.waitForFunction(() => document.querySelector('#panel-ws [data-k="dups"]').textContent === '1');
  assert.equal(await counter('ws', 'gaps'), '1 (2 ids)');
  assert.equal(await page.textContent('#panel-ws .note.gap'), 'gap: #3–#4 never arrived');
  assert.equal(await page.textContent('#panel-ws .note.dup'), 'duplicate #5, ignored');
});

test('a repeated error is one row with a count, not a flood', async () => {
  await openRoom('e2e-errors');
  await page.evaluate(() => {
    const panel = window.pushlab.panels.long_poll;
    for (let i = 0; i < 3; i++) panel.error(new Error('server unreachable'));
  });
  assert.deepEqual(await page.$$eval('#panel-long_poll .note.err', (lis) => lis.map((li) => li.textContent)),
    ['server unreachable (×3)']);
});

test('user text is shown as text and never runs as markup', async () => {
  await openRoom('e2e-xss');
  const evil = '<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>';
  const msg = await h.publish(server.http, 'e2e-xss', '<b onmouseover=alert(1)>mallory</b>', evil);
  for (const p of PANELS) {
    await waitForId(p, msg.id);
    const row = page.locator(`#panel-${p} li.msg[data-id="${msg.id}"]`);
    assert.equal(await row.locator('.text').textContent(), evil, p);
    assert.equal(await row.locator('.user').textContent(), '<b onmouseover=alert(1)>mallory</b>', p);
  }
  assert.equal(await page.locator('#panels img, #panels script, #panels b').count(), 0, 'no element was created');
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'no handler ran');
  assert.deepEqual(pageErrors, []);
});

test('the timeline draws every lane in its colour', async () => {
  await openRoom('e2e-timeline');
  const m = await h.publish(server.http, 'e2e-timeline', 'cat', 'tick');
  for (const p of PANELS) await waitForId(p, m.id);
  await page.waitForTimeout(200); // a few animation frames
  const perLane = await page.evaluate(() => {
    const c = document.querySelector('#timeline');
    const g = c.getContext('2d');
    // The plot only: the lane labels on the left are in the lane colours too.
    const x0 = Math.ceil(200 * devicePixelRatio);
    const img = g.getImageData(x0, 0, c.width - x0, c.height).data;
    const lanes = window.pushlab.timeline.lanes;
    return lanes.map((lane) => {
      const want = [1, 3, 5].map((i) => parseInt(lane.color.slice(i, i + 2), 16));
      let n = 0;
      for (let i = 0; i < img.length; i += 4)
        if (Math.abs(img[i] - want[0]) + Math.abs(img[i + 1] - want[1]) + Math.abs(img[i + 2] - want[2]) < 30) n++;
      return { key: lane.key, pixels: n, spans: lane.spans.length, msgs: lane.marks.filter((k) => k.kind === 'msg').length };
    });
  });
  for (const lane of perLane) {
    assert.ok(lane.spans >= 1, `${lane.key} recorded a request or connection`);
    assert.ok(lane.msgs >= 1, `${lane.key} recorded a delivered message`);
    assert.ok(lane.pixels > 100, `${lane.key} drew in its colour (${lane.pixels} px)`);
  }
  await page.locator('.timeline-box').screenshot({ path: h.screenshotPath('timeline') });
});

test('after the server restarts with an empty room the page starts the room over', async () => {
  await openRoom('e2e-restart');
  let last;
  for (let i = 0; i < 3; i++) last = await h.publish(server.http, 'e2e-restart', 'eve', `old ${i}`);
  for (const p of PANELS) await waitForId(p, last.id);
  const stopped = await h.stopServer(server);
  server = await h.startServer(exe, path.resolve(webRoot), server.ports); // same ports, empty store
  assert.equal(stopped, 0, 'the first server stopped cleanly on SIGTERM');
  await page.waitForFunction(() => /restarted/.test(document.querySelector('#publish-status').textContent), null, { timeout: 15000 });
  await Promise.all(PANELS.map((p) => page.waitForFunction((p) => window.pushlab.panels[p].seq.lastId === 0 &&
    !/connecting|handshake|retrying/.test(document.querySelector(`#panel-${p} .state`).textContent), p, { timeout: 15000 })));
  const fresh = await h.publish(server.http, 'e2e-restart', 'eve', 'new 1');
  assert.equal(fresh.id, 1, 'the new server numbers from 1');
  for (const p of PANELS) {
    await waitForId(p, 1);
    assert.equal(await page.textContent(`#panel-${p} li.msg[data-id="1"] .text`), 'new 1', p);
    assert.equal(await counter(p, 'dups'), '0', p);
  }
});

// The colour under the right end (now) of lane i's radio band, on the
// timeline canvas: [r, g, b].
function bandPixel(i) {
  return page.evaluate((i) => {
    const c = document.getElementById('timeline');
    const dpr = window.devicePixelRatio || 1;
    const laneH = (c.clientHeight - 26) / 4;
    const k = Math.min(1, laneH / 66);
    const y = i * laneH + laneH - 8 * k - 2 + 3 * k;
    const d = c.getContext('2d').getImageData(Math.round((c.clientWidth - 16) * dpr), Math.round(y * dpr), 1, 1).data;
    return [d[0], d[1], d[2], d[3]];
  }, i);
}

// Idle is the hairline (light grey) or nothing at all.
const bandIdle = (px) => px[3] < 16 || (px[0] > 200 && px[1] > 200 && px[2] > 200);

test('each lane has an LTE radio band: short polling never rests while SSE sleeps after its connect', async () => {
  await openRoom('e2e-radio');
  // SSE's only events are its connect: its radio wakes, then, once the tail
  // (10.4 s) has run out, sleeps; 250 ms short polling keeps its own on.
  const lastState = (i) => page.evaluate((i) => {
    const r = window.pushlab.timeline.lanes[i].radio;
    return r && r.ranges.length ? r.ranges[r.ranges.length - 1].state : 'none';
  }, i);
  await page.waitForFunction(() => {
    const r = window.pushlab.timeline.lanes[2].radio;
    return r && r.ranges.some((g) => g.state !== 'idle');
  }, null, { timeout: 10000, polling: 100 });
  await page.waitForFunction(() => {
    const r = window.pushlab.timeline.lanes[2].radio;
    return r.ranges[r.ranges.length - 1].state === 'idle';
  }, null, { timeout: 30000, polling: 250 });
  assert.notEqual(await lastState(0), 'idle', 'short polling keeps its radio on');
  await page.waitForTimeout(100); // a frame drawn with this state
  const blue = (px) => px[3] > 100 && px[2] > 200 && px[2] - px[0] > 60;
  const [sp, sse] = [await bandPixel(0), await bandPixel(2)];
  assert.ok(blue(sp), `short polling's band is drawn on: ${sp}`);
  assert.ok(bandIdle(sse), `SSE's band is drawn idle: ${sse}`);
  // Each panel's mean power: SSE's falls as its radio sleeps, polling's not.
  await page.waitForFunction(() => {
    const mw = (p) => Number(document.querySelector(`#panel-${p} [data-k="radio"]`).textContent.replace(/[^0-9]/g, ''));
    return mw('sse') > 0 && mw('sse') < 0.8 * mw('short_poll');
  }, null, { timeout: 30000, polling: 250 });
  await page.locator('.timeline-box').screenshot({ path: h.screenshotPath('timeline-radio') });
  await page.screenshot({ path: h.screenshotPath('index-radio'), fullPage: true });
});

test('killed (SIGKILL) under load and started again, each panel shows every message stored after the restart, once', async () => {
  const room = 'e2e-kill';
  await openRoom(room);
  // A publisher posting across the kill; the second server's ids start over.
  const lives = [[]];
  let stop = false;
  let n = 0;
  const publisher = (async () => {
    while (!stop) {
      try {
        const m = await h.publish(server.http, room, 'pub', `k-${n}`);
        if (lives.at(-1).length && m.id <= lives.at(-1).at(-1).id) lives.push([]);
        lives.at(-1).push(m);
      } catch { /* the server is down */ }
      n++;
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  try {
    for (const p of PANELS) await waitForId(p, 40);
    const exited = new Promise((r) => server.proc.once('exit', r));
    server.proc.kill('SIGKILL');
    await exited;
    await new Promise((r) => setTimeout(r, 1000)); // down for a second
    server = await h.startServer(exe, path.resolve(webRoot), server.ports);
    await page.waitForFunction(() => /restarted/.test(document.querySelector('#publish-status').textContent), null, { timeout: 20000 });
    const deadline = Date.now() + 20000;
    while ((lives.length < 2 || lives[1].length < 30) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  } finally {
    stop = true;
    await publisher;
  }
  assert.equal(lives.length, 2, 'the publisher saw the ids start over');
  const fresh = lives[1].map((m) => m.id);
  for (const p of PANELS) {
    await waitForId(p, fresh.at(-1));
    const shown = (await ids(p)).filter((id) => id <= fresh.at(-1));
    assert.deepEqual(shown.slice(-fresh.length), fresh, `${p} shows every message stored after the restart, in order`);
    assert.equal(await counter(p, 'dups'), '0', p);
  }
});

// bench-sample.json is a real, small run of this repository's bench:
//   pushlab-bench --subscribers 10 --rate 20 --duration 1 --warmup 0.3 \
//     --poll-interval 250 --json bench-sample.json
test('report.html draws latency CDFs and per-message bars from a bench JSON file', async () => {
  await page.goto(`${server.http}/report.html`);
  await page.setInputFiles('#file', path.join(h.HERE, 'bench-sample.json'));
  await page.waitForSelector('body[data-drawn="1"]', { timeout: 10000 });
  const rows = await page.$$eval('#summary tbody tr', (trs) => trs.map((tr) => tr.dataset.transport));
  assert.deepEqual(rows, ['short_poll', 'long_poll', 'sse', 'ws']);
  const coloured = await page.evaluate(() => [...document.querySelectorAll('canvas.chart')].filter((c) => !c.closest('[hidden]')).map((c) => {
    const img = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < img.length; i += 4) if (Math.max(img[i], img[i + 1], img[i + 2]) - Math.min(img[i], img[i + 1], img[i + 2]) > 60) n++;
    return { id: c.id, coloured: n };
  }));
  assert.ok(coloured.length >= 3, 'a CDF and the bar charts');
  for (const c of coloured) assert.ok(c.coloured > 300, `${c.id} drew coloured marks (${c.coloured} px)`);
  await page.screenshot({ path: h.screenshotPath('report'), fullPage: true });
});

// bench-radio-sample.json is a real, small run of `pushlab-bench radio`:
//   pushlab-bench radio --duration 40 --subscribers 2 --rate 0.025 \
//     --heartbeat 30 --json bench-radio-sample.json
test('report.html charts the phones radio from a radio run and hides it for a run without', async () => {
  await page.goto(`${server.http}/report.html`);
  await page.setInputFiles('#file', path.join(h.HERE, 'bench-radio-sample.json'));
  await page.waitForSelector('body[data-drawn="1"]', { timeout: 10000 });
  assert.equal(await page.isVisible('#radio'), true);
  const coloured = await page.evaluate(() => ['radio-power', 'radio-on'].map((id) => {
    const c = document.getElementById(id);
    const img = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < img.length; i += 4) if (Math.max(img[i], img[i + 1], img[i + 2]) - Math.min(img[i], img[i + 1], img[i + 2]) > 60) n++;
    return n;
  }));
  for (const n of coloured) assert.ok(n > 300, `a radio chart drew coloured marks (${n} px)`);
  assert.match(await page.textContent('#radio-note'), /2 phones per transport, one message every 40 s/);
  await page.locator('#radio').screenshot({ path: h.screenshotPath('report-radio') });
  await page.setInputFiles('#file', path.join(h.HERE, 'bench-sample.json'));
  await page.waitForFunction(() => document.querySelector('#source').textContent.includes('bench-sample.json'));
  assert.equal(await page.isVisible('#radio'), false);
});

// bench-targets-sample.json is a real, small run of this repository's bench
// against pushlab and nchan (nginx with the nchan module) in turn:
//   pushlab-bench --target pushlab,nchan --subscribers 10 --rate 20 \
//     --duration 1 --warmup 0.3 --poll-interval 250 --json bench-targets-sample.json
test('report.html compares several runs side by side: a letter per target of each file', async () => {
  await page.goto(`${server.http}/report.html`);
  await page.setInputFiles('#file', [path.join(h.HERE, 'bench-sample.json'), path.join(h.HERE, 'bench-targets-sample.json')]);
  await page.waitForSelector('body[data-drawn="1"]', { timeout: 10000 });
  const rows = await page.$$eval('#summary tbody tr', (trs) => trs.map((tr) => `${tr.dataset.run} ${tr.dataset.transport}`));
  const t = ['short_poll', 'long_poll', 'sse', 'ws'];
  assert.deepEqual(rows, [...t.map((x) => `A ${x}`), ...t.map((x) => `B ${x}`), ...t.map((x) => `C ${x}`)]);
  assert.deepEqual(await page.$$eval('#runs li', (lis) => lis.map((li) => li.textContent)),
    ['A: pushlab, bench-sample.json', 'B: pushlab, bench-targets-sample.json', 'C: nchan, bench-targets-sample.json']);
  assert.equal(await page.isVisible('#summary th.run'), true);
  assert.equal(await page.textContent('#summary tbody tr[data-run="C"] td'), 'C: nchan');
  assert.equal(await page.locator('#cdf-legend li').count(), 12);
  const coloured = await page.evaluate(() => ['cdf', 'bytes', 'requests', 'server'].map((id) => {
    const c = document.getElementById(id);
    const img = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < img.length; i += 4) if (Math.max(img[i], img[i + 1], img[i + 2]) - Math.min(img[i], img[i + 1], img[i + 2]) > 60) n++;
    return n;
  }));
  for (const n of coloured) assert.ok(n > 300, `a chart drew coloured marks (${n} px)`);
  await page.screenshot({ path: h.screenshotPath('report-compare'), fullPage: true });
  // One file again: no run letters, the scheduled-time curves are back.
  await page.setInputFiles('#file', path.join(h.HERE, 'bench-sample.json'));
  await page.waitForFunction(() => document.querySelectorAll('#summary tbody tr').length === 4);
  assert.equal(await page.isVisible('#runs'), false);
  assert.equal(await page.isVisible('#summary th.run'), false);
});

test('report.html loads ?src= given twice, and names the file at fault', async () => {
  await page.route('**/one.json', (r) => r.fulfill({ path: path.join(h.HERE, 'bench-sample.json') }));
  await page.route('**/two.json', (r) => r.fulfill({ path: path.join(h.HERE, 'bench-targets-sample.json') }));
  await page.route('**/bad.json', (r) => r.fulfill({ body: '{"pushlab_bench": 2}', contentType: 'application/json' }));
  await page.goto(`${server.http}/report.html?src=one.json&src=two.json`);
  await page.waitForSelector('body[data-drawn="1"]', { timeout: 10000 });
  assert.equal(await page.locator('#summary tbody tr').count(), 12);
  await page.goto(`${server.http}/report.html?src=one.json&src=bad.json`);
  await page.waitForSelector('#error:not(:empty)', { timeout: 10000 });
  assert.match(await page.textContent('#error'), /bad\.json: not a pushlab_bench version 1 document/);
});

test('report.html works opened straight from disk (file://)', async () => {
  await page.goto(`file://${path.resolve(webRoot)}/report.html`);
  await page.setInputFiles('#file', path.join(h.HERE, 'bench-sample.json'));
  await page.waitForSelector('body[data-drawn="1"]', { timeout: 10000 });
  assert.equal(await page.locator('#summary tbody tr').count(), 4);
});

test('report.html loads ?src= and shows a bad file as an error, not a blank page', async () => {
  await page.route('**/sample-bench.json', (r) => r.fulfill({ path: path.join(h.HERE, 'bench-sample.json') }));
  await page.route('**/broken.json', (r) => r.fulfill({ body: '{"results": 3}', contentType: 'application/json' }));
  await page.goto(`${server.http}/report.html?src=sample-bench.json`);
  await page.waitForSelector('body[data-drawn="1"]', { timeout: 10000 });
  await page.goto(`${server.http}/report.html?src=broken.json`);
  await page.waitForSelector('#error:not(:empty)', { timeout: 10000 });
  assert.match(await page.textContent('#error'), /pushlab_bench/);
});
