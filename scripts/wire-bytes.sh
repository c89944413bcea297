#!/usr/bin/env bash
# Measures, from the client's side of the socket, the bytes one message costs
# on each transport and what a quiet connection costs per heartbeat: TCP
# payload (HTTP headers, any chunk framing, WebSocket frame headers included;
# TCP/IP headers not), against a running pushlab-server. Reads only its own
# sockets, so an open demo page or other attendees change nothing.
#   scripts/wire-bytes.sh [--json]      needs $HTTP and $WS (the workshop setup exports them)
# One message has 64 bytes of text (pushlab-bench's default --size) in a fresh
# room with an 8-character name, so the figures do not depend on who runs it.
# Its own SSE and WebSocket connections ask for a 2 s heartbeat (heartbeat=2,
# protocol 1.1), so it waits seconds, not the server's default 15.
set -euo pipefail
export LC_ALL=C
json=0
[ "${1:-}" = --json ] && json=1
die() { echo "wire-bytes: $*" >&2; exit 1; }
: "${HTTP:?wire-bytes: set \$HTTP (and \$WS) as in docs/workshop/README.md}"
: "${WS:?wire-bytes: set \$WS (and \$HTTP) as in docs/workshop/README.md}"
hostport() { local a=${1#*://}; a=${a%%/*}; echo "${a%:*} ${a##*:}"; }
read -r HOST HPORT <<<"$(hostport "$HTTP")"
read -r WHOST WPORT <<<"$(hostport "$WS")"
command -v curl >/dev/null || die "needs curl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null || true' EXIT

curl -sf -o /dev/null "$HTTP/api/config" || die "no answer from $HTTP/api/config"
hb=2
digits=$(printf '%07d' $((RANDOM * 32768 + RANDOM)) | tail -c 7)
room=w$digits wsroom=v$digits # two fresh rooms, 8 characters each
text=$(printf '%064d' 0)
names=() values=()
put() { # put NAME BYTES: one figure, which must be a positive number
  [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || die "measuring $1 failed (got '$2')"
  names+=("$1"); values+=("$2")
}
pub() { # pub [ROOM]: publishes one message; prints its id
  curl -sf -H 'Content-Type: application/json' -d "{\"user\":\"bench\",\"text\":\"$text\"}" \
    "$HTTP/api/rooms/${1:-$room}/messages" | sed -n 's/^{"id":\([0-9]*\).*/\1/p'
}
# Header plus body as received: exact for these responses, which carry a
# Content-Length (no chunk framing).
resp='%{size_header} %{size_download} %{size_request}\n'
sum() { read -r a b c <"$1"; echo $((a + b)); }

# WebSocket by hand: the 101 answer, one message frame, the application
# ping and pong; then silence, until the server pings us (read at the end,
# after the HTTP transports: it comes one to two heartbeats later).
ws_send() { printf "\x81\x$(printf %02x $((${#1} | 128)))\x00\x00\x00\x00%s" "$1" >&3; }
ws_frame() { # reads one server frame; prints its size in bytes
  local b len n=2
  b=$(timeout $((2 * hb + 3)) head -c 2 <&3 | od -An -tu1) || die "no WebSocket frame"
  len=$(awk '{print $2}' <<<"$b")
  [ -n "$len" ] || die "no WebSocket frame"
  if [ "$len" = 126 ]; then
    len=$(head -c 2 <&3 | od -An -tu1 | awk '{print $1 * 256 + $2}')
    n=4
  fi
  head -c "$len" <&3 >/dev/null
  echo $((n + len))
}
exec 3<>"/dev/tcp/$WHOST/$WPORT"
printf 'GET /ws/%s?since=0&heartbeat=2 HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' \
  "$wsroom" "$WHOST" "$WPORT" >&3
n=0
while IFS= read -r line <&3; do
  n=$((n + ${#line} + 1))
  [ "$line" != $'\r' ] || break
done
put ws_handshake "$n"
pub "$wsroom" >/dev/null
put ws_message "$(ws_frame)"
ws_send ping
put ws_app_ping_in 10 # 2 B header + 4 B mask + "ping": what the client sends
put ws_app_pong_out "$(ws_frame)"
ws_send '{"type":"ping"}' # what the demo page sends every 15 s
put ws_json_ping_in 21 # 2 B header + 4 B mask + 15 B of JSON
put ws_json_pong_out "$(ws_frame)"
[ "$(pub)" = 1 ] || die "the room $room was not fresh"
curl -s -o /dev/null -w "$resp" "$HTTP/api/rooms/$room/messages?since=0" >"$tmp/sp1"
curl -s -o /dev/null -w "$resp" "$HTTP/api/rooms/$room/messages?since=1" >"$tmp/sp0"
put short_poll_page "$(sum "$tmp/sp1")"
put short_poll_empty "$(sum "$tmp/sp0")"
read -r _ _ req <"$tmp/sp0"
put curl_poll_request "$req"

curl -s -o /dev/null -w "$resp" "$HTTP/api/rooms/$room/poll?since=1&timeout=30" >"$tmp/lp1" &
lp=$!
sleep 0.5
pub >/dev/null
wait $lp
curl -s -o /dev/null -w "$resp" "$HTTP/api/rooms/$room/poll?since=2&timeout=1" >"$tmp/lp0"
put long_poll_page "$(sum "$tmp/lp1")"
put long_poll_empty "$(sum "$tmp/lp0")"

# SSE: the raw stream, for one heartbeat and a bit. Since protocol 1.3 it is
# close-delimited, its body the events themselves; a chunked one (1.2 and
# before, or another server) counts each chunk with its framing.
exec 4<>"/dev/tcp/$HOST/$HPORT"
printf 'GET /api/rooms/%s/events?since=2&heartbeat=2 HTTP/1.1\r\nHost: %s:%s\r\n\r\n' "$room" "$HOST" "$HPORT" >&4
timeout $((hb + 1)) cat <&4 >"$tmp/sse" &
sse=$!
sleep 0.5
pub >/dev/null
wait $sse || true
exec 4<&-
sse_raw=$(cat "$tmp/sse"; echo .)
sse_raw=${sse_raw%.}
head=${sse_raw%%$'\r\n\r\n'*}
[ "$head" != "$sse_raw" ] || die "no SSE response head"
put sse_head $((${#head} + 4))
rest=${sse_raw:$((${#head} + 4))}
sse_piece() { # one write of the stream: its data, and its bytes on the wire
  case $1 in
  retry:*) put sse_retry "$2" ;;
  id:*) put sse_event "$2" ;;
  :\ ping*) [[ " ${names[*]} " == *" sse_ping "* ]] || put sse_ping "$2" ;;
  esac
}
if [[ ${head,,} == *$'\r\ntransfer-encoding: chunked'* ]]; then
  while [ -n "$rest" ]; do # one HTTP/1.1 chunk: HEX CRLF data CRLF
    hex=${rest%%$'\r\n'*}
    [[ $hex =~ ^[0-9a-fA-F]+$ ]] || die "SSE chunk framing not understood"
    len=$((16#$hex))
    data=${rest:$((${#hex} + 2)):$len}
    size=$((${#hex} + 2 + len + 2))
    rest=${rest:$size}
    sse_piece "$data" "$size"
  done
else
  while [[ $rest == *$'\n\n'* ]]; do # one block: lines up to a blank line
    data=${rest%%$'\n\n'*}$'\n\n'
    rest=${rest:${#data}}
    sse_piece "$data" "${#data}"
  done
fi
# The server's control ping to our silent WebSocket.
put ws_server_ping "$(ws_frame)" # a control ping, sent to a peer silent for a heartbeat
printf '\x8a\x80\x00\x00\x00\x00' >&3 # our pong: 2 B header + 4 B mask
put ws_pong_reply 6
exec 3<&-

order=(short_poll_page short_poll_empty curl_poll_request long_poll_page long_poll_empty
  sse_head sse_retry sse_event sse_ping ws_handshake ws_message ws_app_ping_in ws_app_pong_out
  ws_json_ping_in ws_json_pong_out ws_server_ping ws_pong_reply)
value() { for i in "${!names[@]}"; do [ "${names[$i]}" != "$1" ] || { echo "${values[$i]}"; return; }; done; die "no figure $1"; }
if [ $json = 1 ]; then
  sep=
  printf '{'
  for k in "${order[@]}"; do printf '%s"%s": %s' "$sep" "$k" "$(value "$k")"; sep=', '; done
  printf '}\n'
  exit 0
fi
label() {
  case $1 in
  short_poll_page) echo "short poll, page with 1 message" ;;
  short_poll_empty) echo "short poll, empty page" ;;
  curl_poll_request) echo "  (curl's request for it)" ;;
  long_poll_page) echo "long poll, page with 1 message" ;;
  long_poll_empty) echo "long poll, empty page (timeout)" ;;
  sse_head) echo "SSE, response head" ;;
  sse_retry) echo "SSE, retry: line" ;;
  sse_event) echo "SSE, one event" ;;
  sse_ping) echo "SSE, one ': ping'" ;;
  ws_handshake) echo "WebSocket, 101 answer" ;;
  ws_message) echo "WebSocket, one message frame" ;;
  ws_app_ping_in) echo "WebSocket, 'ping' from the client" ;;
  ws_app_pong_out) echo "WebSocket, 'pong' back" ;;
  ws_json_ping_in) echo "WebSocket, the page's JSON ping" ;;
  ws_json_pong_out) echo "WebSocket, its JSON pong back" ;;
  ws_server_ping) echo "WebSocket, server's control ping" ;;
  ws_pong_reply) echo "WebSocket, the client's pong to it" ;;
  *) echo "$1" ;;
  esac
}
for k in "${order[@]}"; do
  printf '%-36s %5s B\n' "$(label "$k")" "$(value "$k")"
done
