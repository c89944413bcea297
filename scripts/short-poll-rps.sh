#!/usr/bin/env bash
# Short polling's GETs per second, pushlab-server against nginx + nchan (one
# worker), measured by wrk on the same page: a room holding one message,
# fetched again and again. Both servers are started here, on free ports,
# in a temporary directory, and stopped by their pids; the rounds alternate
# so a busy machine weighs on both alike. Prints one line per run, then the
# median of each and their ratio. Each run also gives the server's CPU per
# GET (/proc, nginx's master and workers) and wrk's share of a core: where
# wrk's one thread is the limit, GETs/s no longer tell the servers apart,
# and CPU per GET still does. Needs wrk, nginx and libnginx-mod-nchan.
# wrk's threads (-t) default to 1, so that the other core is the server's;
# -t 2 is wrk's own default, where wrk and the server share both cores and
# the cheaper server gets more of them.
#   scripts/short-poll-rps.sh [-c CONNECTIONS] [-t WRK_THREADS] [-d SECONDS] [-r ROUNDS]
#                             [-b BUILD_DIR] [-s "SERVER FLAGS"]   e.g. -s "--http-threads 2"
set -euo pipefail
conns=50 threads=1 secs=5 rounds=3 build=build flags=
while getopts c:t:d:r:b:s: o; do
  case $o in
  c) conns=$OPTARG ;; t) threads=$OPTARG ;; d) secs=$OPTARG ;; r) rounds=$OPTARG ;; b) build=$OPTARG ;; s) flags=$OPTARG ;;
  *) echo "usage: $0 [-c CONNECTIONS] [-t WRK_THREADS] [-d SECONDS] [-r ROUNDS] [-b BUILD_DIR] [-s \"SERVER FLAGS\"]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
die() { echo "short-poll-rps: $*" >&2; exit 1; }
for t in wrk curl /usr/sbin/nginx; do command -v $t >/dev/null || die "needs $t"; done
module=/usr/lib/nginx/modules/ngx_nchan_module.so
[ -f $module ] || die "needs libnginx-mod-nchan ($module)"
server=$build/server/pushlab-server
[ -x "$server" ] || die "no $server: build first (meson setup $build && ninja -C $build)"
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# shellcheck disable=SC2086 # the flags are words
"$server" --http-port 0 --ws-port 0 $flags >"$dir/pushlab.out" 2>"$dir/pushlab.err" &
pids+=($!)
for _ in $(seq 50); do grep -q listening "$dir/pushlab.out" && break; sleep 0.1; done
read -r _ _ http _ <"$dir/pushlab.out" || die "pushlab-server did not start: $(cat "$dir/pushlab.err")"
http=${http#http=}

nport=$(free_port)
mkdir -p "$dir/nginx"
sed "s/listen 127.0.0.1:8090;/listen 127.0.0.1:$nport;/" bench/targets/nchan.conf >"$dir/nginx/nchan.conf"
cat >"$dir/nginx/nginx.conf" <<CONF
load_module $module;
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/nginx/body;
    proxy_temp_path $dir/nginx/proxy;
    fastcgi_temp_path $dir/nginx/fastcgi;
    uwsgi_temp_path $dir/nginx/uwsgi;
    scgi_temp_path $dir/nginx/scgi;
    include $dir/nginx/nchan.conf;
}
CONF
/usr/sbin/nginx -p "$dir/nginx" -e "$dir/nginx/error.log" -c "$dir/nginx/nginx.conf" -g "daemon off;" &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$nport/" && break; sleep 0.1; done

body='{"user":"bench","text":"one message, fetched again and again"}'
curl -sf -o /dev/null -H 'Content-Type: application/json' -d "$body" "$http/api/rooms/rps/messages" ||
  die "publish to pushlab failed"
curl -sf -o /dev/null -d "$body" "http://127.0.0.1:$nport/pub?id=rps" || die "publish to nchan failed"
urls=("$http/api/rooms/rps/messages?since=0" "http://127.0.0.1:$nport/sub/poll?id=rps")
names=(pushlab nchan)
for i in 0 1; do # the page each serves, so both are seen to answer 200 with the message
  code=$(curl -s -o "$dir/page$i" -w '%{http_code}' "${urls[$i]}")
  [ "$code" = 200 ] && grep -q "fetched again" "$dir/page$i" || die "${names[$i]} answers $code, not the message"
done

# CPU ticks (utime + stime) of a process and its children: nginx's master
# and workers. The part of /proc/PID/stat after "(comm) " starts at field 3.
ticks() {
  local t=0 p
  for p in "$1" $(pgrep -P "$1"); do
    t=$((t + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
  done
  echo "$t"
}
hz=$(getconf CLK_TCK)
server_pids=("${pids[0]}" "${pids[1]}")

declare -A all cpu
TIMEFORMAT='%R %U %S' # wrk's wall clock, user and system seconds
for r in $(seq "$rounds"); do
  for i in 0 1; do
    [ -t 2 ] && printf '\rshort-poll-rps: round %d/%d %-8s' "$r" "$rounds" "${names[$i]}" >&2
    t0=$(ticks "${server_pids[$i]}")
    { time wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "${urls[$i]}" >"$dir/wrk.out"; } 2>"$dir/wrk.time"
    t1=$(ticks "${server_pids[$i]}")
    out=$(cat "$dir/wrk.out")
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    gets=$(awk '/requests in/ {print $1}' <<<"$out")
    us=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$gets" 'BEGIN {printf "%.2f", (n > 0 ? d * 1e6 / hz / n : 0)}')
    wrk_cpu=$(awk 'NF == 3 && $1 > 0 {c = ($2 + $3) * 100 / $1} END {printf "%.0f", c}' "$dir/wrk.time")
    printf '%-8s round %d  %10s GETs/s  p99 %8s  non-2xx %s  srv_us/GET %6s  wrk_cpu %s%%\n' \
      "${names[$i]}" "$r" "$rps" "$p99" "${non2xx:-0}" "$us" "$wrk_cpu"
    all[$i]+="$rps "
    cpu[$i]+="$us "
  done
done
[ -t 2 ] && printf '\r%60s\r' '' >&2
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
p=$(median "${all[0]}") n=$(median "${all[1]}")
printf 'median   pushlab %s GETs/s, nchan %s GETs/s: pushlab/nchan %.2f (wrk -t%s -c%s -d%ss, page of one message)\n' \
  "$p" "$n" "$(awk -v a="$p" -v b="$n" 'BEGIN {print a / b}')" "$threads" "$conns" "$secs"
p=$(median "${cpu[0]}") n=$(median "${cpu[1]}")
printf 'median   server CPU per GET: pushlab %s us, nchan %s us: GETs per CPU-second pushlab/nchan %.2f\n' \
  "$p" "$n" "$(awk -v a="$p" -v b="$n" 'BEGIN {print (a > 0 ? b / a : 0)}')"
