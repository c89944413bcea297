#!/usr/bin/env python3
"""bench/node/sidebyside.mjs, small: every transport against every target
(nchan when nginx and its module are installed) delivers published x
subscribers with no loss and writes every figure as a number; an unknown
transport is one stderr line and exit status 2; deliveries out of publish
order are counted as such, not as loss. Runs `npm ci` in bench/node
when its node_modules is missing; skips (77) only when that cannot be done.
  test_node_client.py PUSHLAB_SERVER"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE_DIR = os.path.join(ROOT, 'bench', 'node')
SCRIPT = os.path.join(NODE_DIR, 'sidebyside.mjs')
NGINX, MODULE = '/usr/sbin/nginx', '/usr/lib/nginx/modules/ngx_nchan_module.so'
SUBS, RATE, DURATION = 5, 20, 2
NUMERIC = ['subscribers', 'opened', 'published', 'expected', 'delivered', 'lost', 'dup',
           'latency_p50_ms', 'latency_p99_ms', 'latency_max_ms', 'window_s', 'server_cpu_ms',
           'server_ms_per_1k', 'client_cpu_ms', 'client_cpu_share']
failures = []


def check(ok, what):
    print(('ok: ' if ok else 'FAIL: ') + what)
    if not ok:
        failures.append(what)


def install():
    """node_modules in bench/node, by npm ci if missing; a reason if not."""
    if not shutil.which('node') or not shutil.which('npm'):
        return 'no node or npm on PATH'
    if os.path.isdir(os.path.join(NODE_DIR, 'node_modules', 'ws')) and \
            os.path.isdir(os.path.join(NODE_DIR, 'node_modules', 'eventsource')):
        return None
    r = subprocess.run(['npm', 'ci', '--no-audit', '--no-fund', '--loglevel=error'], cwd=NODE_DIR,
                       capture_output=True, text=True, timeout=300)
    return None if r.returncode == 0 else 'npm ci in bench/node failed: ' + r.stderr.strip()[-300:]


def test_runs(server, targets):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'sbs.json')
        r = subprocess.run(['node', SCRIPT, '--targets', ','.join(targets), '--subscribers', str(SUBS),
                            '--rate', str(RATE), '--duration', str(DURATION), '--warmup', '1',
                            '--server-bin', server, '--json', out],
                           capture_output=True, text=True, timeout=240)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
        check(r.returncode == 0, f'exit status 0 (got {r.returncode})')
        if not os.path.exists(out):
            check(False, 'the JSON file was written')
            return
        with open(out) as f:
            doc = json.load(f)
    runs = {(x['target'], x['transport']): x for x in doc['runs']}
    for target in targets:
        for transport in ['ws', 'sse', 'long-poll']:
            x = runs.get((target, transport))
            name = f'{target} {transport}'
            if x is None:
                check(False, f'{name}: a run in the JSON')
                continue
            bad = [k for k in NUMERIC if not isinstance(x.get(k), (int, float)) or isinstance(x.get(k), bool)]
            check(not bad, f'{name}: numeric fields {bad or "all"}')
            check(x['published'] == RATE * DURATION, f'{name}: published {x["published"]} of {RATE * DURATION}')
            check(x['delivered'] == x['published'] * SUBS and x['lost'] == 0 and x['dup'] == 0,
                  f'{name}: delivered {x["delivered"]} = published x {SUBS}, lost {x["lost"]}, dup {x["dup"]}')
            if transport == 'ws':
                check(isinstance(x['ws_extensions'], list), f'{name}: the negotiated extensions listed')
            if transport == 'long-poll':
                check(isinstance(x['requests_per_delivery'], (int, float)), f'{name}: requests per delivery')
    for transport in ['ws', 'sse', 'long-poll'] if len(targets) == 2 else []:
        p, n = runs.get(('pushlab', transport)), runs.get(('nchan', transport))
        if p and n and n['server_ms_per_1k']:
            got = doc['ratios'].get(transport, {}).get('ratio')
            want = p['server_ms_per_1k'] / n['server_ms_per_1k']
            check(isinstance(got, (int, float)) and abs(got - want) < 1e-9, f'{transport}: ratio {got} = {want}')


def test_out_of_order_is_not_loss():
    """Two publishes stored in the other order (HTTP POSTs on several
    connections may be): both delivered, one out of order, no duplicate; a
    message that comes twice is one duplicate."""
    code = ("import {tally} from %s;"
            "const t = tally(1, 1, 3);"
            "for (const s of [2, 1, 1, 3]) t.receive(0, `${s} 5 xxxx`);"
            "console.log(JSON.stringify({delivered: t.delivered, dup: t.dup, ooo: t.ooo}));"
            % json.dumps('file://' + os.path.join(NODE_DIR, 'run.mjs')))
    r = subprocess.run(['node', '--input-type=module', '-e', code], capture_output=True, text=True,
                       timeout=30)
    got = json.loads(r.stdout or 'null')
    check(got == {'delivered': 3, 'dup': 1, 'ooo': 1},
          f'2, 1, 1, 3 received: 3 delivered, 1 duplicate, 1 out of order (got {got}, {r.stderr.strip()})')


def test_unknown_transport(server):
    r = subprocess.run(['node', SCRIPT, '--transports', 'ws,smoke', '--server-bin', server],
                       capture_output=True, text=True, timeout=30)
    lines = r.stderr.strip().split('\n')
    check(r.returncode == 2, f'unknown transport: exit status 2 (got {r.returncode})')
    check(len(lines) == 1 and 'smoke' in lines[0], f'unknown transport: one stderr line naming it ({lines})')
    check(r.stdout == '', 'unknown transport: nothing on stdout')


def main():
    server = sys.argv[1]
    reason = install()
    if reason:
        print(f'SKIP: {reason}')
        return 77
    targets = ['pushlab']
    if os.access(NGINX, os.X_OK) and os.access(MODULE, os.R_OK):
        targets.append('nchan')
    else:
        print(f'note: no {NGINX} with {MODULE}: pushlab only')
    test_out_of_order_is_not_loss()
    test_unknown_transport(server)
    test_runs(server, targets)
    print(f'{len(failures)} failed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
