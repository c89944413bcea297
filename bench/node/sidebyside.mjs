#!/usr/bin/env node
// pushlab-server against nginx+nchan, side by side in one run, measured by
// an independent Node client (npm ws, npm eventsource, node:http): server CPU
// per 1,000 deliveries, loss and latency per transport. See --help.
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nchanAvailable, ticksPerSecond } from './servers.mjs';
import { runOne } from './run.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const TARGETS = ['pushlab', 'nchan'];
const TRANSPORTS = ['ws', 'sse', 'long-poll'];
const DEFAULT_SUBS = { ws: 1000, sse: 200, 'long-poll': 100 }; // issue 17's loads

const HELP = `usage: node bench/node/sidebyside.mjs [options]
Starts pushlab-server and nginx+nchan (each in turn, on free loopback ports,
files in a temp dir), subscribes N clients of each transport with stock npm
libraries (ws with its default options, eventsource, node:http keep-alive
long polling), publishes R msg/s of B bytes over HTTP POST, and prints each
server's CPU per 1,000 deliveries, loss, latency and the pushlab/nchan ratio.

  --targets LIST        pushlab,nchan (default both)
  --transports LIST     ws,sse,long-poll (default all three)
  --subscribers N       per transport (default: ws 1000, sse 200, long-poll 100)
  --rate R              messages per second (default 50)
  --size B              message text bytes, 32 to 4096 (default 128)
  --duration S          measured seconds (default 10)
  --warmup S            seconds published first, not counted (default 2)
  --nginx-workers N     nginx worker_processes (default 1)
  --rounds N            repeat the whole alternation N times; the ratio is of
                        the medians (default 1)
  --server-bin PATH     pushlab-server (default build/server/pushlab-server)
  --nchan-conf FILE     the nchan server block (default bench/targets/nchan.conf)
  --json FILE           write every figure as JSON
  --help

Short polling is left out: scripts/short-poll-rps.sh measures it with wrk.
Exit status: 0 when every run completed (loss is a figure, not a failure),
1 when a server did not start or a run failed, 2 for bad options.`;

function usage(message) {
  process.stderr.write(`sidebyside: ${message} (see --help)\n`);
  process.exit(2);
}

function integer(name, text, min, max) {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max)
    usage(`--${name} must be an integer from ${min} to ${max}, not '${text}'`);
  return Number(text);
}

function list(name, text, allowed) {
  const items = text.split(',').filter(Boolean);
  const bad = items.find((x) => !allowed.includes(x));
  if (bad !== undefined || !items.length)
    usage(`unknown ${name} '${bad ?? text}': choose from ${allowed.join(', ')}`);
  return [...new Set(items)];
}

function options() {
  let v;
  try {
    ({ values: v } = parseArgs({
      options: {
        targets: { type: 'string', default: TARGETS.join(',') },
        transports: { type: 'string', default: TRANSPORTS.join(',') },
        subscribers: { type: 'string' }, rate: { type: 'string', default: '50' },
        size: { type: 'string', default: '128' }, duration: { type: 'string', default: '10' },
        warmup: { type: 'string', default: '2' }, 'nginx-workers': { type: 'string', default: '1' },
        rounds: { type: 'string', default: '1' },
        'server-bin': { type: 'string', default: path.join(root, 'build/server/pushlab-server') },
        'nchan-conf': { type: 'string', default: path.join(root, 'bench/targets/nchan.conf') },
        json: { type: 'string' }, help: { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    usage(e.message.split('\n')[0]);
  }
  if (v.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  return {
    targets: list('target', v.targets, TARGETS),
    transports: list('transport', v.transports, TRANSPORTS),
    subscribersGiven: v.subscribers === undefined ? null : integer('subscribers', v.subscribers, 1, 20000),
    rate: integer('rate', v.rate, 1, 1000),
    size: integer('size', v.size, 32, 4096),
    duration: integer('duration', v.duration, 1, 600),
    warmup: integer('warmup', v.warmup, 0, 60),
    nginxWorkers: integer('nginx-workers', v['nginx-workers'], 1, 64),
    rounds: integer('rounds', v.rounds, 1, 100),
    serverBin: path.resolve(v['server-bin']), nchanConf: path.resolve(v['nchan-conf']), json: v.json,
  };
}

function check(o) {
  if (o.targets.includes('pushlab') && !fs.existsSync(o.serverBin))
    return `no pushlab-server at ${o.serverBin}: build it (meson setup build && ninja -C build) or give --server-bin`;
  if (o.targets.includes('nchan') && !nchanAvailable())
    return 'nchan needs /usr/sbin/nginx and /usr/lib/nginx/modules/ngx_nchan_module.so (apt install nginx libnginx-mod-nchan)';
  return null;
}

// One progress line on stderr, rewritten in place; nothing when not a TTY.
function progressLine(label) {
  return (text) => {
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K[${label}] ${text}`);
  };
}

const fmt = (x, digits = 2) => (x === null || x === undefined ? '-' : x.toFixed(digits));

function table(results, ratios) {
  const cols = ['round', 'target', 'transport', 'subs', 'published', 'expected', 'delivered', 'lost', 'dup', 'ooo',
    'p50_ms', 'p99_ms', 'srv_cpu_ms', 'srv_ms/k', 'req/deliv', 'client_cpu'];
  const rows = results.map((r) => [r.round, r.target, r.transport, r.subscribers, r.published, r.expected,
    r.delivered, r.lost, r.dup, r.out_of_order, fmt(r.latency_p50_ms), fmt(r.latency_p99_ms), fmt(r.server_cpu_ms, 0),
    fmt(r.server_ms_per_1k), fmt(r.requests_per_delivery, 3), `${fmt(r.client_cpu_share * 100, 0)}%`]);
  const width = cols.map((c, i) => Math.max(c.length, ...rows.map((row) => String(row[i]).length)));
  const line = (row) => row.map((x, i) => String(x).padStart(width[i])).join('  ');
  const out = [line(cols), ...rows.map(line)];
  const notes = new Set();
  for (const r of results) {
    if (r.ws_extensions) notes.add(`${r.target} ws: negotiated extensions: ${r.ws_extensions.map((e) => e || '(none)').join(', ')}; ${fmt(r.ws_bytes_in_per_delivery, 1)} B read per delivery`);
    if (r.anomalies.length) notes.add(`${r.target} ${r.transport} round ${r.round}: ${r.anomalies.length} subscribers off by count or with duplicates (the first: ${JSON.stringify(r.anomalies[0])}; all in --json)`);
    if (r.publishes_stored_out_of_order) notes.add(`${r.target} ${r.transport} round ${r.round}: ${r.publishes_stored_out_of_order} publishes were stored before one sent earlier (their ids say so): the ooo deliveries`);
    if (r.open_failed) notes.add(`${r.target} ${r.transport}: ${r.open_failed} subscribers did not open (${r.open_errors.join('; ')})`);
    if (r.client_cpu_share > 0.8) notes.add(`${r.target} ${r.transport} round ${r.round}: the client used ${fmt(r.client_cpu_share * 100, 0)}% of a core: near saturation, its own queueing is in the latency`);
  }
  out.push(...notes);
  for (const [transport, ratio] of Object.entries(ratios))
    out.push(`${transport}: server CPU per 1,000 deliveries pushlab/nchan = ${fmt(ratio.ratio)} (${fmt(ratio.pushlab)} vs ${fmt(ratio.nchan)} ms${ratio.rounds > 1 ? `, medians of ${ratio.rounds} rounds` : ''})`);
  out.push(`srv_ms/k: server CPU (utime+stime of its processes, /proc, in ${1000 / ticksPerSecond()} ms ticks) ms per 1,000 deliveries in the measured window;`);
  out.push('client_cpu: this Node client\'s CPU over the window, as a share of one core; latency: receive minus send time;');
  out.push('ooo: deliveries after a later-published one (the publishes are HTTP POSTs on several connections: a server may store them in another order).');
  return `${out.join('\n')}\n`;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// Per transport, the median server CPU per 1,000 deliveries of each target
// over the rounds, and their ratio.
function ratiosOf(results) {
  const ratios = {};
  const of = (target, transport) => results
    .filter((r) => r.target === target && r.transport === transport && r.server_ms_per_1k !== null)
    .map((r) => r.server_ms_per_1k);
  for (const transport of TRANSPORTS) {
    const p = of('pushlab', transport), n = of('nchan', transport);
    if (p.length && n.length && median(n))
      ratios[transport] = { pushlab: median(p), nchan: median(n), ratio: median(p) / median(n), rounds: Math.min(p.length, n.length) };
  }
  return ratios;
}

async function main() {
  const o = options();
  const problem = check(o);
  if (problem) {
    process.stderr.write(`sidebyside: ${problem}\n`);
    process.exit(1);
  }
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130)); // the exit handler kills the servers
  const results = [];
  let failed = false;
  // Transport outer, target inner: the two runs of a ratio are next to each other in time.
  for (let round = 1; round <= o.rounds; round++) {
    for (const transport of o.transports) {
      for (const target of o.targets) {
        const run = { ...o, subscribers: o.subscribersGiven ?? DEFAULT_SUBS[transport] };
        try {
          const label = `${o.rounds > 1 ? `round ${round}: ` : ''}${target} ${transport}`;
          results.push({ round, ...(await runOne(run, target, transport, progressLine(label))) });
        } catch (e) {
          failed = true;
          if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
          process.stderr.write(`sidebyside: ${target} ${transport}: ${e.message}\n`);
        }
      }
    }
  }
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const ratios = ratiosOf(results);
  process.stdout.write(table(results, ratios));
  if (o.json) {
    const doc = {
      tool: 'bench/node/sidebyside.mjs', node: process.version, date: new Date().toISOString(),
      options: { rounds: o.rounds, rate: o.rate, size: o.size, duration: o.duration, warmup: o.warmup, nginx_workers: o.nginxWorkers,
        server_bin: o.serverBin, targets: o.targets, transports: o.transports },
      runs: results, ratios,
    };
    fs.writeFileSync(o.json, `${JSON.stringify(doc, null, 2)}\n`);
  }
  process.exit(failed ? 1 : 0); // sockets the libraries keep alive must not hold the run open
}

main().catch((e) => {
  process.stderr.write(`sidebyside: ${e.message}\n`);
  process.exit(1);
});
