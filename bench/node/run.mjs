// One measured run: one target, one transport. Starts the server, opens the
// subscribers, publishes a warmup and then the measured messages, counts
// what arrives and reads the server's CPU around the measured window.
import { cpuOf, startNchan, startPushlab } from './servers.mjs';
import { longPollAgent, openSubscriber, publisher } from './subscribers.mjs';

const OPEN_WINDOW = 200; // subscribers on their way at once
const OPEN_MS = 30000;
const QUIET_MS = 3000; // drain: stop when nothing arrived for this long
const DRAIN_MS = 15000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowUs = () => Math.round(performance.now() * 1000);

// A message text of exactly `size` bytes: "SEQ SENT_US " and padding.
export function messageText(seq, size) {
  const head = `${seq} ${nowUs()} `;
  return head + 'x'.repeat(Math.max(0, size - head.length));
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// What the subscribers received: per subscriber the highest seq so far (a
// lower one after it arrived out of publish order: HTTP publishes on
// several connections may be stored in another order), and for the
// measured seqs [first, last] which arrived, once, with their latencies.
export function tally(subscribers, first, last) {
  const measured = last - first + 1;
  return {
    high: new Float64Array(subscribers),
    seen: new Uint8Array(subscribers * measured),
    count: new Uint32Array(subscribers), // measured deliveries per subscriber
    dups: new Uint32Array(subscribers),
    delivered: 0,
    dup: 0,
    ooo: 0,
    bad: 0,
    latencyUs: new Float64Array(subscribers * measured),
    receive(i, text) {
      const recv = nowUs();
      const sp = text.indexOf(' ');
      const seq = Number(text.slice(0, sp));
      const sent = Number(text.slice(sp + 1, text.indexOf(' ', sp + 1)));
      if (sp < 1 || !Number.isInteger(seq) || !Number.isFinite(sent)) {
        this.bad++;
        return;
      }
      const k = i * measured + (seq - first), counted = seq >= first && seq <= last;
      if (counted && this.seen[k]) {
        this.dup++;
        this.dups[i]++;
        return;
      }
      if (seq < this.high[i]) this.ooo++;
      else this.high[i] = seq;
      if (!counted) return;
      this.seen[k] = 1;
      this.latencyUs[this.delivered++] = recv - sent;
      this.count[i]++;
    },
  };
}

async function openAll(o, target, transport, server, room, t, progress) {
  const subs = [];
  const shared = { agent: transport === 'long-poll' ? longPollAgent() : null };
  let opened = 0, failed = 0;
  const errors = [];
  const deadline = Date.now() + OPEN_MS;
  for (let next = 0; next < o.subscribers;) {
    const batch = [];
    for (; next < o.subscribers && batch.length < OPEN_WINDOW; next++) {
      const i = next;
      const sub = openSubscriber(transport, target, server, room, (text) => t.receive(i, text), shared);
      subs.push(sub);
      batch.push(Promise.race([sub.opened, sleep(Math.max(0, deadline - Date.now()))
        .then(() => { throw new Error('not open in 30 s'); })])
        .then(() => { opened++; }, (e) => { failed++; if (errors.length < 3) errors.push(e.message); }));
    }
    await Promise.all(batch);
    progress(`opening ${opened}/${o.subscribers}`);
  }
  return { subs, shared, opened, failed, errors };
}

// Publishes seqs [from, from + count) at o.rate per second; resolves when
// every publish has been answered, with how many the server took and how
// many it stored before an earlier-sent one (when its answer has the id).
async function publishPaced(pub, room, o, from, count, progress, t) {
  const start = performance.now();
  const answers = [], ids = new Array(count).fill(null);
  let ok = 0;
  for (let k = 0; k < count; k++) {
    const due = start + (k * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    answers.push(pub.publish(room, messageText(from + k, o.size)).then((a) => {
      if (a.status >= 200 && a.status < 300) ok++;
      ids[k] = a.id;
    }));
    if (k % o.rate === 0) progress(`publishing ${k}/${count}, delivered ${t.delivered}`);
  }
  await Promise.all(answers);
  let reordered = null;
  if (ids.every((id) => id !== null)) {
    reordered = 0;
    for (let k = 1; k < count; k++) if (ids[k] < ids[k - 1]) reordered++;
  }
  return { ok, reordered };
}

async function drain(t, expected, progress) {
  const start = Date.now();
  let seen = t.delivered, quietSince = Date.now();
  while (t.delivered < expected && Date.now() - start < DRAIN_MS && Date.now() - quietSince < QUIET_MS) {
    await sleep(20);
    if (t.delivered !== seen) {
      seen = t.delivered;
      quietSince = Date.now();
      progress(`draining ${t.delivered}/${expected}`);
    }
  }
}

// pushlab's own counters after the window (/api/stats): its cuts and errors.
async function serverStats(server) {
  try {
    const res = await fetch(`${server.http}/api/stats`);
    const all = await res.json();
    return { transports: all.transports, errors: all.errors };
  } catch (e) {
    return { error: e.message };
  }
}

function startServer(o, target) {
  const connections = o.subscribers + 256;
  return target === 'pushlab'
    ? startPushlab(o.serverBin, connections)
    : startNchan(o.nchanConf, o.nginxWorkers, connections);
}

// Runs one target x transport; the result holds every figure of the run.
export async function runOne(o, target, transport, progress) {
  const room = `sbs${process.pid}${Date.now() % 100000}`;
  const measured = o.duration * o.rate, warm = o.warmup * o.rate;
  const t = tally(o.subscribers, warm + 1, warm + measured);
  const server = await startServer(o, target);
  let open = null, pub = null;
  try {
    open = await openAll(o, target, transport, server, room, t, progress);
    if (transport === 'long-poll') await sleep(300); // the last GETs reach the server
    pub = publisher(target, server);
    const { ok: warmOk, reordered: warmReordered } =
      await publishPaced(pub, room, o, 1, warm, (m) => progress(`warmup: ${m}`), t);
    await sleep(200);
    const requestsNow = () => open.subs.reduce((sum, x) => sum + x.requests, 0);
    const req0 = requestsNow();
    const bytesNow = () => open.subs.reduce((sum, x) => sum + (x.bytesIn ? x.bytesIn() : 0), 0);
    const bytes0 = bytesNow();
    const cpu0 = cpuOf(server.pid), client0 = process.cpuUsage(), w0 = performance.now();
    const { ok: published, reordered } = await publishPaced(pub, room, o, warm + 1, measured, progress, t);
    const expected = published * o.subscribers;
    await drain(t, expected, progress);
    const cpu1 = cpuOf(server.pid), client = process.cpuUsage(client0), windowS = (performance.now() - w0) / 1000;
    const stats = target === 'pushlab' ? await serverStats(server) : null;
    const anomalies = [];
    for (let i = 0; i < o.subscribers && anomalies.length < 50; i++) {
      if (t.count[i] !== published || t.dups[i])
        anomalies.push({ subscriber: i, delivered: t.count[i], dup: t.dups[i], errors: open.subs[i].errors, closed: open.subs[i].closed ?? null });
    }
    const lat = t.latencyUs.subarray(0, t.delivered).sort();
    const srvMs = (cpu1.seconds - cpu0.seconds) * 1000;
    const clientMs = (client.user + client.system) / 1000;
    const requests = requestsNow() - req0, bytesIn = bytesNow() - bytes0;
    const subErrors = open.subs.reduce((s, x) => s + x.errors, 0);
    return {
      target, transport, subscribers: o.subscribers, opened: open.opened, open_failed: open.failed,
      open_errors: open.errors, warmup_published: warmOk, published, expected, delivered: t.delivered,
      lost: expected - t.delivered, dup: t.dup, out_of_order: t.ooo,
      // Warm-up publishes count too: a subscriber sees their reorder as ooo.
      publishes_stored_out_of_order: reordered === null || warmReordered === null ? null : reordered + warmReordered,
      subscriber_errors: subErrors, malformed: t.bad, anomalies,
      server_stats: stats,
      latency_p50_ms: lat.length ? percentile(lat, 50) / 1000 : null,
      latency_p99_ms: lat.length ? percentile(lat, 99) / 1000 : null,
      latency_max_ms: lat.length ? lat[lat.length - 1] / 1000 : null,
      window_s: windowS, server_cpu_ms: srvMs, server_processes: cpu1.processes,
      server_ms_per_1k: t.delivered ? (srvMs * 1000) / t.delivered : null,
      client_cpu_ms: clientMs, client_cpu_share: clientMs / 1000 / windowS,
      client_us_per_delivery: t.delivered ? (clientMs * 1000) / t.delivered : null,
      requests_per_delivery: transport === 'long-poll' && t.delivered ? requests / t.delivered : null,
      ws_bytes_in_per_delivery: transport === 'ws' && t.delivered ? bytesIn / t.delivered : null,
      ws_extensions: transport === 'ws' ? [...new Set(open.subs.map((s) => s.extensions))] : null,
    };
  } finally {
    if (open) {
      for (const s of open.subs) s.close();
      if (open.shared.agent) open.shared.agent.destroy();
    }
    if (pub) pub.close();
    await server.stop();
  }
}
