// The two servers of the side-by-side run, started here on free loopback
// ports with their files in a temp dir, stopped by pid: pushlab-server and
// nginx with nchan. Also reads a server's CPU from /proc (its whole tree).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const NGINX_BIN = '/usr/sbin/nginx';
export const NCHAN_MODULE = '/usr/lib/nginx/modules/ngx_nchan_module.so';
const NCHAN_LISTEN = 'listen 127.0.0.1:8090;';
const START_MS = 10000;

// Every server still running, killed by the exit handler whatever happens.
const live = new Set();
process.on('exit', () => {
  for (const s of live) {
    killTree(s.pid, 'SIGKILL');
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
});

export function nchanAvailable() {
  try {
    fs.accessSync(NGINX_BIN, fs.constants.X_OK);
    fs.accessSync(NCHAN_MODULE, fs.constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function accepts(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every process's parent, from one pass over /proc.
function processTable() {
  const table = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let text;
    try {
      text = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // it ended meanwhile
    }
    // "pid (comm) state ppid ...": comm may hold ')', fields start after the last one.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    table.push({ pid: Number(name), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
  }
  return table;
}

function treeOf(pid, table) {
  const out = table.filter((p) => p.pid === pid);
  for (let i = 0; i < out.length; i++)
    for (const p of table) if (p.ppid === out[i].pid) out.push(p);
  return out;
}

let clkTck = 0;
export function ticksPerSecond() {
  if (!clkTck) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

// utime + stime of pid and all its descendants, in seconds, and how many processes.
export function cpuOf(pid) {
  const tree = treeOf(pid, processTable());
  const ticks = tree.reduce((sum, p) => sum + p.ticks, 0);
  return { seconds: ticks / ticksPerSecond(), processes: tree.length };
}

function killTree(pid, signal) {
  let kids = [];
  try {
    kids = treeOf(pid, processTable()).map((p) => p.pid);
  } catch {
    kids = [pid];
  }
  for (const p of kids) {
    try {
      process.kill(p, signal);
    } catch {
      // already gone
    }
  }
}

// Stops a server: SIGTERM, up to 5 s to exit, then SIGKILL to its tree.
async function stop(server) {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    const kids = treeOf(server.pid, processTable()).map((p) => p.pid);
    const exited = new Promise((r) => server.child.once('exit', r));
    server.child.kill('SIGTERM');
    const gone = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
    if (!gone) {
      for (const p of kids) {
        try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
      }
      await exited;
    }
  }
  live.delete(server);
  fs.rmSync(server.dir, { recursive: true, force: true });
}

function tail(text) {
  return text.trim().split('\n').slice(-5).join(' | ');
}

// pushlab-server on ports the kernel picks; resolves once it prints its
// "listening" line, with its http:// and ws:// bases.
export async function startPushlab(bin, connections) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pushlab-sbs-'));
  const args = ['--http-port', '0', '--ws-port', '0'];
  if (connections > 12000) args.push('--max-connections', String(connections));
  const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { kind: 'pushlab', child, pid: child.pid, dir, stop: () => stop(server) };
  live.add(server);
  let out = '', err = '';
  child.stderr.on('data', (d) => { err = (err + d).slice(-4096); });
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no listening line in 10 s')), START_MS);
      child.on('error', (e) => { clearTimeout(timer); reject(e); });
      child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`it exited (${code}): ${tail(err)}`)); });
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening http=(\S+) ws=(\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          server.http = m[1];
          server.ws = m[2];
          resolve();
        }
      });
    });
  } catch (e) {
    await stop(server);
    throw new Error(`pushlab-server (${bin}) did not start: ${e.message}`);
  }
  child.removeAllListeners('exit');
  child.stdout.resume();
  return server;
}

// The hard open-files limit: nginx may raise its soft limit up to it, no
// further (asking for more is an alert in its log, and the limit stays).
function hardFileLimit() {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n')
      .find((l) => l.startsWith('Max open files'));
    const hard = Number(line.trim().split(/\s+/)[4]);
    return Number.isFinite(hard) ? hard : Infinity;
  } catch {
    return Infinity;
  }
}

// worker_connections is twice the subscribers (within that limit): at 10,000 WebSocket
// subscribers from this client, nginx logged "10256 worker_connections are
// not enough, reusing connections" and 387 of them did not open.
function nginxConf(dir, site, workers, connections) {
  const files = hardFileLimit();
  const slots = Math.min(2 * connections, files - 64);
  return `# Written by bench/node/sidebyside.mjs for one run, removed when it ends.
load_module ${NCHAN_MODULE};
worker_processes ${workers};
worker_rlimit_nofile ${Math.min(slots + 64, files)};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${slots}; }
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
${site}
}
`;
}

// One try of nginx on one port: the server, or null if nginx exited
// (the port may have been taken meanwhile).
async function tryNginx(dir, siteText, port, workers, connections) {
  const site = siteText.replace(NCHAN_LISTEN, `listen 127.0.0.1:${port};`);
  fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConf(dir, site, workers, connections));
  const child = spawn(NGINX_BIN, ['-p', dir, '-e', path.join(dir, 'error.log'),
    '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  const server = { kind: 'nchan', child, pid: child.pid, dir, stop: () => stop(server) };
  live.add(server);
  let exited = false;
  child.on('exit', () => { exited = true; });
  child.on('error', () => { exited = true; });
  for (const t0 = Date.now(); Date.now() - t0 < START_MS && !exited;) {
    if (await accepts(port)) {
      server.http = `http://127.0.0.1:${port}`;
      server.ws = `ws://127.0.0.1:${port}`;
      return server;
    }
    await sleep(20);
  }
  live.delete(server);
  if (!exited) killTree(child.pid, 'SIGKILL');
  return null;
}

// nginx with the server block of bench/targets/nchan.conf (its listen port
// rewritten), under a temp prefix, `workers` worker processes.
export async function startNchan(confPath, workers, connections) {
  const siteText = fs.readFileSync(confPath, 'utf8');
  if (!siteText.includes(NCHAN_LISTEN))
    throw new Error(`${confPath} has no '${NCHAN_LISTEN}' line to rewrite`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pushlab-sbs-nginx-'));
  fs.chmodSync(dir, 0o755); // as root, nginx's workers run as nobody
  for (let i = 0; i < 3; i++) {
    const server = await tryNginx(dir, siteText, await freePort(), workers, connections);
    if (server) return server;
  }
  let log = '';
  try {
    log = tail(fs.readFileSync(path.join(dir, 'error.log'), 'utf8'));
  } catch { /* none */ }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error(`nginx (${NGINX_BIN}) did not start: ${log || 'no error log'}`);
}
