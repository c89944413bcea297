#!/usr/bin/env bash
# One message per transport as the network sees it, for network engineers:
# tcpdump on the subscriber's connection while this script subscribes the
# four ways and publishes one message each time, then every packet with its
# TCP payload as text, and a summary of packets and payload bytes per
# direction. Needs tcpdump and the right to capture (root or CAP_NET_RAW),
# curl, and $HTTP and $WS as the workshop setup exports them.
#   scripts/wire-capture.sh [-i IFACE] [-w DIR] [-q]
#     -i IFACE  capture interface (default: lo for a 127.x server, else any)
#     -w DIR    keep the four .pcap files there (open them in Wireshark)
#     -q        only the summary
set -euo pipefail
export LC_ALL=C
die() { echo "wire-capture: $*" >&2; exit 1; }
iface="" keep="" quiet=0
while [ $# -gt 0 ]; do
  case $1 in
  -i) iface=${2:?-i needs an interface}; shift 2 ;;
  -w) keep=${2:?-w needs a directory}; shift 2 ;;
  -q) quiet=1; shift ;;
  *) die "unknown argument $1 (see the top of $0)" ;;
  esac
done
: "${HTTP:?wire-capture: set \$HTTP (and \$WS) as in docs/workshop/README.md}"
: "${WS:?wire-capture: set \$WS (and \$HTTP) as in docs/workshop/README.md}"
command -v tcpdump >/dev/null || die "needs tcpdump (apt-get install tcpdump)"
command -v curl >/dev/null || die "needs curl"
hostport() { local a=${1#*://}; a=${a%%/*}; echo "${a%:*} ${a##*:}"; }
read -r HOST HPORT <<<"$(hostport "$HTTP")"
read -r WHOST WPORT <<<"$(hostport "$WS")"
[ -n "$iface" ] || case $HOST in 127.*) iface=lo ;; *) iface=any ;; esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"; kill $(jobs -p) 2>/dev/null || true' EXIT
curl -sf -o /dev/null "$HTTP/healthz" || die "no answer from $HTTP"

# curl's own ports come from this range, so the capture sees only its
# connection, not the publishes or the demo page.
lo=$((40000 + RANDOM % 20000))
ports="$lo-$((lo + 99))"
room=cap$RANDOM$RANDOM
text="one message on the wire"
pub() {
  curl -sf -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"user\":\"ann\",\"text\":\"$text\"}" "$HTTP/api/rooms/$room/messages" || die "publish failed"
}
capture_start() { # capture_start NAME FILTER
  name=$1
  # The kernel's ring holds buffer/snaplen packets: with -s 0 (256 KiB) the
  # default 2 MiB held 8, and a busy machine dropped a burst's first ones.
  tcpdump -i "$iface" --immediate-mode -nn -U -s 16384 -B 16384 \
    -w "$dir/$1.pcap" "$2" 2>"$dir/$1.err" &
  cap=$!
  for _ in $(seq 50); do
    grep -q "listening on" "$dir/$1.err" 2>/dev/null && return 0
    kill -0 $cap 2>/dev/null || break
    sleep 0.1
  done
  die "tcpdump did not start: $(cat "$dir/$1.err")"
}
capture_stop() {
  # tcpdump reads packets in order, so once the client's FIN is in the file
  # so is everything before it (a fixed sleep lost packets under load).
  for _ in $(seq 50); do
    [ -n "$(tcpdump -nn -r "$dir/$name.pcap" 'tcp[tcpflags] & tcp-fin != 0' 2>/dev/null)" ] && break
    sleep 0.1
  done
  sleep 0.3 # the last ACKs
  kill -INT $cap
  wait $cap || true
  local dropped
  dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$dir/$name.err")
  [ "${dropped:-0}" = 0 ] || echo "wire-capture: tcpdump dropped $dropped packets of $name: its figures are short" >&2
}
http_filter="tcp port $HPORT and tcp portrange $ports"

pub # message 1, waiting for the short poll
capture_start short_poll "$http_filter"
curl -s -o /dev/null --local-port "$ports" "$HTTP/api/rooms/$room/messages?since=0"
capture_stop

capture_start long_poll "$http_filter"
curl -s -o /dev/null --local-port "$ports" "$HTTP/api/rooms/$room/poll?since=1&timeout=30" &
held=$!
sleep 0.5
pub # message 2 completes the held request
wait $held
capture_stop

capture_start sse "$http_filter"
curl -s -N -o "$dir/sse.out" --local-port "$ports" --max-time 20 "$HTTP/api/rooms/$room/events?since=2" &
stream=$!
sleep 0.5
pub # message 3, one event on the open stream
# Until the event is in (a fixed --max-time lost it on a loaded machine).
for _ in $(seq 100); do grep -q '^id: 3' "$dir/sse.out" 2>/dev/null && break; sleep 0.1; done
kill $stream 2>/dev/null || true
wait $stream || true
capture_stop

capture_start ws "tcp port $WPORT"
exec 3<>"/dev/tcp/$WHOST/$WPORT"
printf 'GET /ws/%s?since=3 HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' \
  "$room" "$WHOST" "$WPORT" >&3
while IFS= read -r line <&3 && [ "$line" != $'\r' ]; do :; done
pub # message 4, one frame
len=$(head -c 2 <&3 | od -An -tu1 | awk '{print $2}')
[ "${len:-126}" -lt 126 ] || head -c 2 <&3 >/dev/null
exec 3<&-
capture_stop

names=(short_poll long_poll sse ws)
titles=("short polling: GET, one page with the message" "long polling: a held GET, answered by the publish"
  "Server-Sent Events: the stream's head, then one event" "WebSocket: the upgrade, then one frame")
if [ $quiet = 0 ]; then
  for i in "${!names[@]}"; do
    echo "== ${titles[$i]}"
    tcpdump -nn -tt -A -r "$dir/${names[$i]}.pcap" 2>/dev/null
    echo
  done
fi
printf '%-12s %8s %16s %16s\n' transport packets "client->server" "server->client"
for i in "${!names[@]}"; do
  server_ports=$HPORT
  [ "${names[$i]}" = ws ] && server_ports=$WPORT
  tcpdump -nn -q -r "$dir/${names[$i]}.pcap" 2>/dev/null | awk -v sp=".$server_ports" -v name="${names[$i]}" '
    { n++; len = $NF + 0
      if (substr($3, length($3) - length(sp) + 1) == sp) down += len; else up += len }
    END { printf "%-12s %8d %14d B %14d B\n", name, n, up, down }'
done
echo "(TCP payload only: HTTP headers, chunk framing and WebSocket frame headers included)"
if [ -n "$keep" ]; then
  mkdir -p "$keep"
  cp "$dir"/*.pcap "$keep"/
  echo "pcap files in $keep/"
fi
