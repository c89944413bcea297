// The slides and the handout, as the demo server serves them at /slides/, in
// headless Debian chromium: keyboard navigation, the speaker view following
// the deck, every figure filled from figures.js, the timeline pictures drawn,
// nothing fetched from elsewhere, and a handout that prints on one A4 page.
// Usage: node --test-reporter=tap slides.test.mjs <pushlab-server> <web root>
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as h from './harness.mjs';

const [exe, webRoot] = process.argv.slice(2);
if (!exe || !webRoot) {
  console.log('Bail out! usage: slides.test.mjs <pushlab-server> <web root>');
  process.exit(1);
}
const { chromium } = await h.loadPlaywright();
const SLIDE_COUNT = (fs.readFileSync(path.join(webRoot, 'slides', 'index.html'), 'utf8').match(/<section class="slide/g) || []).length;

let server, browser, page;
const pageErrors = [];
const foreign = [];

before(async () => {
  server = await h.startServer(exe, path.resolve(webRoot));
  browser = await h.launchBrowser(chromium);
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 720 });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  browser.context.on('request', (r) => {
    if (!r.url().startsWith(server.http)) foreign.push(r.url());
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) assert.equal(await h.stopServer(server), 0, 'the server stops cleanly on SIGTERM');
});

const current = () => page.evaluate(() => Number(document.body.dataset.slide));

// Coloured pixels of one lane colour in a canvas.
const pixels = (sel, hex) => page.evaluate(([sel, hex]) => {
  const c = document.querySelector(sel);
  const img = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < img.length; i += 4)
    if (Math.abs(img[i] - want[0]) + Math.abs(img[i + 1] - want[1]) + Math.abs(img[i + 2] - want[2]) < 30) n++;
  return n;
}, [sel, hex]);

test('the server serves the deck at /slides/ and sends /slides there', async () => {
  const res = await fetch(`${server.http}/slides`, { redirect: 'manual' });
  assert.equal(res.status, 301);
  assert.equal(res.headers.get('location'), '/slides/');
  await page.goto(`${server.http}/slides/`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 10000 });
  assert.ok(SLIDE_COUNT >= 9, `one slide per lesson and more (${SLIDE_COUNT})`);
  assert.equal(await current(), 1);
});

test('every figure on every slide is filled from the committed data', async () => {
  const figs = await page.$$eval('[data-fig]', (els) => els.map((e) => [e.dataset.fig, e.textContent]));
  assert.ok(figs.length >= 20, `figures found (${figs.length})`);
  for (const [key, text] of figs) assert.match(text, /\d|[A-Za-z]{3}/, `${key} is filled, got "${text}"`);
  assert.equal(await page.locator('.missing').count(), 0, 'no figure is missing from figures.js');
  const bars = await page.$$eval('.bars .val', (els) => els.map((e) => e.textContent));
  assert.equal(bars.length, 8, 'two charts of four transports');
});

test('the keyboard moves through the deck and the URL follows', async () => {
  await page.keyboard.press('ArrowRight');
  assert.equal(await current(), 2);
  assert.match(page.url(), /#2$/);
  await page.keyboard.press(' ');
  await page.keyboard.press('PageDown');
  assert.equal(await current(), 4);
  await page.keyboard.press('ArrowLeft');
  assert.equal(await current(), 3);
  await page.keyboard.press('End');
  assert.equal(await current(), SLIDE_COUNT);
  await page.keyboard.press('ArrowRight');
  assert.equal(await current(), SLIDE_COUNT, 'the last slide stays the last');
  await page.keyboard.press('Home');
  assert.equal(await current(), 1);
  await page.goto(`${server.http}/slides/#5`);
  await page.waitForSelector('body[data-ready="1"]');
  assert.equal(await current(), 5, 'a reload keeps the slide');
  assert.equal(await page.locator('.slide.current').count(), 1, 'one slide shows at a time');
});

test('each lesson slide draws the page timeline in its transports\' colours, and looks right', async () => {
  for (let n = 1; n <= SLIDE_COUNT; n++) {
    await page.goto(`${server.http}/slides/#${n}`);
    await page.waitForSelector('body[data-ready="1"]');
    await page.waitForTimeout(100);
    const canvas = page.locator('.slide.current canvas.timeline');
    if (await canvas.count()) {
      const script = await canvas.getAttribute('data-script');
      const colour = { why: '#2563eb', short: '#2563eb', long: '#d97706', sse: '#059669', ws: '#7c3aed', buffered: '#059669' }[script];
      const n0 = await pixels('.slide.current canvas.timeline', colour);
      assert.ok(n0 > 150, `slide ${n} (${script}) drew its lane (${n0} px)`);
    }
    const overflow = await page.evaluate(() => {
      const s = document.querySelector('.slide.current');
      return [...s.children].filter((c) => c.offsetTop + c.offsetHeight > s.clientHeight + 1).map((c) => c.tagName);
    });
    assert.deepEqual(overflow, [], `slide ${n}: nothing runs off the bottom`);
    await page.screenshot({ path: h.screenshotPath(`slides-${n}`) });
  }
});

test('the speaker view shows this slide, the next, the notes and a clock, and follows the deck', async () => {
  await page.goto(`${server.http}/slides/#3`);
  await page.waitForSelector('body[data-ready="1"]');
  const speaker = await browser.context.newPage();
  await speaker.setViewportSize({ width: 1440, height: 900 });
  await speaker.goto(`${server.http}/slides/?view=speaker#3`);
  await speaker.waitForSelector('body[data-ready="1"]');
  const notes = await speaker.textContent('#notes');
  assert.match(notes, /min/, 'the notes give timings');
  assert.match(await speaker.textContent('#where'), /slide 3 \//);
  assert.equal(await speaker.locator('#now .slide').count(), 1);
  assert.equal(await speaker.locator('#next .slide').count(), 1);
  await page.keyboard.press('ArrowRight');
  await speaker.waitForFunction(() => document.body.dataset.slide === '4', null, { timeout: 5000 });
  assert.match(await speaker.textContent('#where'), /slide 4 \//, 'the speaker view followed the deck');
  await speaker.keyboard.press('ArrowRight');
  await page.waitForFunction(() => document.body.dataset.slide === '5', null, { timeout: 5000 });
  await speaker.waitForTimeout(200);
  await speaker.screenshot({ path: h.screenshotPath('slides-speaker') });
  await speaker.close();
});

test('the handout fills its figures and prints on exactly one A4 page', async () => {
  await page.goto(`${server.http}/slides/handout.html`);
  await page.waitForSelector('body[data-ready="1"]');
  const empty = await page.$$eval('[data-fig], [data-lat], [data-per], [data-req]',
    (els) => els.filter((e) => !/\d/.test(e.textContent)).map((e) => e.outerHTML.slice(0, 80)));
  assert.deepEqual(empty, []);
  await page.emulateMedia({ media: 'print' });
  await page.screenshot({ path: h.screenshotPath('handout-print'), fullPage: true });
  const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
  const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
  assert.equal(pages, 1, 'one sheet of paper');
  const size = /\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)/.exec(pdf.toString('latin1'));
  assert.ok(size && Math.abs(size[1] - 595.3) < 2 && Math.abs(size[2] - 841.9) < 2, `A4, got ${size && size.slice(1)}`);
  await page.emulateMedia({ media: 'screen' });
});

test('nothing was fetched from another origin and no script failed', () => {
  assert.deepEqual(foreign, []);
  assert.deepEqual(pageErrors, []);
});
