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
const files = fs.readdirSync(webRoot);
const read = (f) => fs.readFileSync(path.join(webRoot, f), 'utf8');
const mod = (f) => import(pathToFileURL(path.join(webRoot, f)).href);

test('no script builds HTML from strings (innerHTML, outerHTML, insertAdjacentHTML, document.write)', () => {
  const js = files.filter((f) => f.endsWith('.js'));
  assert.ok(js.length >= 5, 'the scripts were found');
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
