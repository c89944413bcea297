#!/usr/bin/env bash
# The three-node demo of lesson 9: redis-server and three pushlab-servers
# sharing it (--store redis://), on free ports with their files in a
# temporary folder. A message published on node A is read on B and C with
# the same id; node B is killed with -9; a reader that asks the next node
# each time, with its cursor, gets every id once. Everything it started is
# stopped by pid when it ends. Needs redis-server, curl and jq.
#   scripts/cluster-demo.sh        (pushlab-server from $PATH or build/)
set -euo pipefail
server=$(command -v pushlab-server || echo "$(dirname "$0")/../build/server/pushlab-server")
dir=$(mktemp -d /tmp/pushlab-cluster-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
  --daemonize no >"$dir/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
declare -A http
for n in A B C; do
  "$server" --store "redis://127.0.0.1:$port" --http-port 0 --ws-port 0 >"$dir/$n.out" 2>&1 &
  pids+=($!)
  eval "pid_$n=$!"
  for _ in $(seq 200); do # up to 10 s
    grep -qs '^pushlab-server listening' "$dir/$n.out" && break
    sleep 0.05
  done
  grep -qs '^pushlab-server listening' "$dir/$n.out" || { cat "$dir/$n.out" >&2; exit 1; }
  http[$n]=$(sed -n 's/^pushlab-server listening http=\([^ ]*\) .*/\1/p' "$dir/$n.out")
done
post() { # node text
  curl -s -H 'Content-Type: application/json' -d "{\"user\":\"demo\",\"text\":\"$2\"}" \
    "${http[$1]}/api/rooms/hall/messages" | jq -r '"published on \("'"$1"'"): id \(.id)"'
}
order=(A B C) turn=0 cursor=0
read_next() { # a reader that asks the next node each time, with its cursor
  local n page ids
  for _ in 1 2 3; do
    n=${order[$((turn++ % 3))]}
    if page=$(curl -sf --max-time 2 "${http[$n]}/api/rooms/hall/messages?since=$cursor"); then
      ids=$(jq -c '[.messages[].id]' <<<"$page")
      cursor=$(jq '.messages[-1].id // '"$cursor" <<<"$page")
      echo "  read on $n since its cursor: $ids"
      return
    fi
    echo "  asked $n: no answer, next node"
  done
}
post A one
read_next
post B two
read_next
{ kill -9 "$pid_B" && wait "$pid_B"; } 2>/dev/null || true
echo "node B killed with -9"
post C three
read_next
post A four
read_next
read_next
