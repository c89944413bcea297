// Fast checks of web/ without a browser: the page never builds markup from
// strings, loads nothing from outside the web root, and its id and clock
// logic does what the panels rely on.
// Usage: node --test-reporter=tap static.test.mjs <web root>
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

const webRoot = path.resolve(process.argv[2] || path.join(import.meta.dirname, '../../web'));
// Every file under the web root, slides included, as paths relative to it.
const files = fs.readdirSync(webRoot, { recursive: true }).filter((f) => fs.statSync(path.join(webRoot, f)).isFile());
const read = (f) => fs.readFileSync(path.join(webRoot, f), 'utf8');
const mod = (f) => import(pathToFileURL(path.join(webRoot, f)).href);

test('no script builds HTML from strings (innerHTML, outerHTML, insertAdjacentHTML, document.write)', () => {
  const js = files.filter((f) => f.endsWith('.js'));
  assert.ok(js.length >= 5, 'the scripts were found');
  assert.ok(js.some((f) => f.startsWith('slides')), 'the slides\' scripts are checked too');
  for (const f of js) {
    const bad = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment)\b/.exec(read(f));
    assert.equal(bad, null, `${f} uses ${bad && bad[0]}`);
  }
});

test('pages load nothing from another origin (the demo works offline)', () => {
  for (const f of files.filter((f) => /\.(html|js|css)$/.test(f))) {
    const refs = read(f).match(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\/[^"'\s>]+|@import|url\(\s*["']?(?:https?:)?\/\//g);
    assert.equal(refs, null, `${f}: ${refs}`);
  }
});

test('ids in order are accepted; a repeated id is a duplicate', async () => {
  const { Sequence } = await mod('seq.js');
  const s = new Sequence(10);
  assert.deepEqual([11, 12].map((id) => s.accept(id).kind), ['ok', 'ok']);
  assert.equal(s.accept(12).kind, 'dup');
  assert.equal(s.accept(3).kind, 'dup');
  assert.equal(s.lastId, 12);
  assert.equal(s.dups, 2);
});

test('an id jump is a gap naming the missing range, and the message still counts', async () => {
  const { Sequence } = await mod('seq.js');
  const s = new Sequence(0);
  s.accept(1);
  assert.deepEqual(s.accept(5), { kind: 'gap', from: 2, to: 4 });
  assert.equal(s.lastId, 5);
  assert.equal(s.gaps, 1);
  assert.equal(s.missing, 3);
});

test('the median window keeps only its last values', async () => {
  const { Window } = await mod('seq.js');
  const w = new Window(3);
  assert.ok(Number.isNaN(w.median()));
  [100, 1, 2, 3].forEach((v) => w.add(v));
  assert.equal(w.median(), 2);
  w.add(10);
  assert.equal(w.median(), 3);
});

test('the clock offset comes from the quickest round trip', async () => {
  const { ServerClock } = await mod('clock.js');
  const c = new ServerClock();
  // Server 50 ms ahead; a slow probe (20 ms) then a quick one (2 ms).
  c.sample(1000, 1020, (1010 + 50 + 7) * 1000);
  c.sample(2000, 2002, (2001 + 50) * 1000);
  c.sample(3000, 3030, (3015 + 90) * 1000); // slower again: ignored
  assert.equal(c.offsetMs, 50);
  assert.equal(c.errorMs, 1);
  assert.equal(c.latencyMs((5000 + 50) * 1000, 5003), 3, 'latency on the page clock');
});

// web/radio.js mirrors common/radio.c's LTE model: the same hand-worked
// cases as tests/unit/test_radio.c, from ARO's default LTE profile.
const J_PROMO = 0.26 * 1.21;
const W_DRX_SHORT = (0.002 * 1.68 + 0.018 * 1.06) / 0.02;
const W_DRX_LONG = (0.002 * 1.68 + 0.038 * 1.06) / 0.04;
const J_TAIL = 0.1 * 1.2 + 0.02 * W_DRX_SHORT + 10 * W_DRX_LONG;
const J_IDLE_PING = 0.043 * 0.594;
const near = (a, b, eps, what) => assert.ok(Math.abs(a - b) <= eps, `${what}: ${a} vs ${b}`);
const pk = (t, bytes = 0, up = false) => ({ t, bytes, up });

test('radio: one packet costs a promotion and a full tail', async () => {
  const { lte } = await mod('radio.js');
  const r = lte([pk(10, 100)], 0, 60);
  near(r.stateS.promotion, 0.26, 1e-9, 'promotion');
  near(r.stateS.drx_long, 10, 1e-9, 'long DRX');
  near(r.stateS.idle, 9.74 + 39.88, 1e-9, 'idle');
  near(r.joules, J_PROMO + J_TAIL + 40 * J_IDLE_PING + 800e-6 * 0.05197, 1e-9, 'joules');
  assert.equal(r.promotions, 1);
  near(r.connectedShare, 10.38 / 60, 1e-9, 'connected');
  const covered = r.ranges.reduce((s, g) => s + g.t1 - g.t0, 0);
  near(covered, 60, 1e-9, 'the ranges cover the window');
});

test('radio: one wake-up is about 0.31 J of promotion and 11.05 J of tail', async () => {
  const { lte } = await mod('radio.js');
  const r = lte([pk(0.26)], 0, 10.38);
  const promo = r.stateS.promotion * 1.21;
  near(promo, 0.31, 0.005, 'promotion');
  near(r.joules - promo, 11.05, 0.005, 'tail');
});

test('radio: the first promotion before the window grows the window', async () => {
  const { lte } = await mod('radio.js');
  const r = lte([pk(0.1)], 0, 20);
  near(r.duration, 20.16, 1e-9, 'duration');
  near(r.start, -0.16, 1e-9, 'start');
});

test('radio: packets every 3 s keep the radio connected at about 1.09 W', async () => {
  const { lte } = await mod('radio.js');
  const r = lte(Array.from({ length: 19 }, (_, i) => pk(3 + 3 * i)), 0, 60);
  assert.equal(r.promotions, 1);
  near(r.stateS.idle, 2.74, 1e-9, 'idle');
  const gap = 0.1 * 1.2 + 0.02 * W_DRX_SHORT + 2.88 * W_DRX_LONG;
  near(r.joules, 3 * J_IDLE_PING + J_PROMO + 19 * gap, 1e-9, 'joules');
  near(gap / 3, 1.09, 0.01, 'watts');
});

test('radio: any period under 10.4 s never idles, at about 1.09 W', async () => {
  const { lte } = await mod('radio.js');
  for (const P of [2, 3, 5, 10, 10.3]) {
    const n = Math.floor(600 / P);
    const r = lte(Array.from({ length: n }, (_, i) => pk(0.26 + i * P)), 0, 0.26 + (n - 1) * P);
    near(r.stateS.idle, 0, 1e-9, `idle at ${P} s`);
    near(r.avgMw, 1090, 10, `mW at ${P} s`);
  }
});

test('radio: two packets 11 s apart wake the radio twice; 10 s apart once', async () => {
  const { lte } = await mod('radio.js');
  const r = lte([pk(10, 0, true), pk(21, 0, true)], 0, 40);
  assert.equal(r.promotions, 2);
  near(r.joules, 2 * (J_PROMO + J_TAIL) + 16 * J_IDLE_PING, 1e-9, 'joules');
  assert.equal(lte([pk(10), pk(20)], 0, 40).promotions, 1);
});

test('radio: a burst costs beta over its span plus alpha per bit', async () => {
  const { lte } = await mod('radio.js');
  const burst = Array.from({ length: 100 }, (_, i) => pk(10 + i * 0.01, 1000, i % 2 === 0));
  const r = lte(burst, 0, 30);
  near(r.stateS.continuous, 0.99, 1e-9, 'continuous');
  const burstJ = 0.99 * 1.2 + 0.4 * 0.43839 + 0.4 * 0.05197;
  near(r.joules, J_PROMO + burstJ + J_TAIL + 15 * J_IDLE_PING, 1e-9, 'joules');
});

test('radio: a heartbeat every 30, 60 or 120 s averages about 0.39, 0.21 or 0.11 W', async () => {
  const { lte } = await mod('radio.js');
  for (const [P, W] of [[30, 0.39], [60, 0.21], [120, 0.11]]) {
    const r = lte(Array.from({ length: 20 }, (_, i) => pk(0.26 + i * P, 40)), 0, 20 * P);
    assert.equal(r.promotions, 20);
    near(r.avgMw / 1000, W, 0.005, `${P} s`);
  }
});

test('radio: packets out of order are refused', async () => {
  const { lte } = await mod('radio.js');
  assert.throws(() => lte([pk(5), pk(4)], 0, 10), RangeError);
  assert.throws(() => lte([pk(5)], 0, 4), RangeError);
});

test('radio: the band window knows the state at its start from before it', async () => {
  const { lteWindow } = await mod('radio.js');
  // A packet at 5 s: at 10 s the radio is in long DRX until 15.12 s, idle after.
  const w = lteWindow([pk(5)], 10, 40);
  assert.deepEqual(w.ranges.map((g) => g.state), ['drx_long', 'idle']);
  near(w.ranges[0].t1, 15.12, 1e-9, 'tail end');
  const idle = (24.88 / 1.28 | 0) + 1; // whole ping periods plus the one begun
  near(w.avgMw, ((5.12 * W_DRX_LONG + idle * J_IDLE_PING) / 30) * 1000, 1e-6, 'mW');
});
