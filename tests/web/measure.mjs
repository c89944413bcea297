// Prints what the demo page itself measures, in headless chromium against a
// real server: the page's idle main-thread cost, then each panel's counters
// after 30 messages at 5 per second. A tool, not a test: it asserts nothing.
// Usage: node tests/web/measure.mjs <pushlab-server> [web root]
import path from 'node:path';
import * as h from './harness.mjs';

const [exe, webRoot = path.join(h.HERE, '../../web')] = process.argv.slice(2);
const { chromium } = await h.loadPlaywright();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const server = await h.startServer(exe, path.resolve(webRoot));
const browser = await h.launchBrowser(chromium);
try {
  const page = await browser.context.newPage();
  await page.goto(`${server.http}/?room=measure`);
  await page.waitForSelector('body[data-ready="1"]');
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const taskSeconds = async () =>
    (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
  await sleep(2000);
  const t0 = await taskSeconds();
  await sleep(10000);
  const idle = ((await taskSeconds()) - t0) * 100; // ms per second over 10 s
  console.log(`idle page (short poll every 2 s, timeline drawing): ${idle.toFixed(1)} ms main-thread time per second`);
  for (let i = 0; i < 30; i++) {
    await h.publish(server.http, 'measure', 'm', 'x'.repeat(40));
    await sleep(200);
  }
  await sleep(2500); // the short poll's next tick
  const rows = await page.evaluate(() => Object.entries(window.pushlab.panels).map(([k, p]) =>
    [k, p.n.requests, p.n.messages, p.n.bytes, p.latencies.median().toFixed(2)]));
  console.log('transport   requests messages bytes_in median_latency_ms');
  for (const r of rows) console.log(`${r[0].padEnd(11)} ${String(r[1]).padStart(8)} ${String(r[2]).padStart(8)} ${String(r[3]).padStart(8)} ${r[4].padStart(17)}`);
  console.log(await page.textContent('#clock-note'));
} finally {
  await browser.close();
  await h.stopServer(server);
}
