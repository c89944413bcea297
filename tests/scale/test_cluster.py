#!/usr/bin/env python3
"""Several pushlab-servers over one Redis (--store redis://...), each test
with its own redis-server and servers on free ports. The first test is the
outside check's scenario: three nodes; an EventSource and a WebSocket on the
node that will die, another of each elsewhere, long and short pollers that
ask another node on every request; a publisher that asks another node for
every message; one node killed with -9 halfway. Every subscriber must end
with exactly the ids 1..N, in order. Prints TAP.
Usage: test_cluster.py PUSHLAB-SERVER"""
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster  # noqa: E402
from cluster import get, publish, wait_for  # noqa: E402

SERVER = sys.argv[1]
tap = cluster.Tap()


def three_nodes_one_killed_halfway(folder):
    n, room = 60, "hall"
    redis = cluster.Redis(folder)
    nodes = [cluster.Node(SERVER, redis, "--heartbeat", "2") for _ in range(3)]
    ports = [x.http_port for x in nodes]
    ws_ports = [x.ws_port for x in nodes]
    subs = [cluster.EventSource("eventsource on the dying node", ports, room, start=1),
            cluster.EventSource("eventsource", ports, room, start=0),
            cluster.WebSocket("websocket on the dying node", ports, ws_ports, room, start=1),
            cluster.WebSocket("websocket", ports, ws_ports, room, start=2),
            cluster.LongPoller("long poll, another node each time", ports, room),
            cluster.ShortPoller("short poll, another node each time", ports, room, start=1)]
    try:
        for s in subs:
            s.start()
        time.sleep(0.5)
        pub = cluster.Publisher(ports, room)
        for k in range(1, n + 1):
            pub.send(k)
            if k == n // 2:
                nodes[1].kill()  # -9: no goodbye to anyone
            time.sleep(0.03)
        done = wait_for(lambda: all(len(s.ids) >= n for s in subs), 30)
        tap.check("every publish was acknowledged once, ids 1..N",
                  sorted(pub.acked) == list(range(1, n + 1)), sorted(pub.acked))
        for s in subs:
            tap.check(f"{s.name}: exactly ids 1..{n} in order", s.ids == list(range(1, n + 1)),
                      f"done={done} got {len(s.ids)}: {s.ids}")
        for s in (subs[0], subs[2]):
            tap.check(f"{s.name}: went on on another node", len(s.nodes_used) >= 2,
                      s.nodes_used)
        lp = subs[4]
        tap.check("long polls were answered by all three nodes", len(lp.nodes_used) == 3,
                  lp.nodes_used)
    finally:
        for s in subs:
            s.stopping = True
        for x in nodes:
            x.stop()
        redis.stop()


def first_use_on_a_node_loads_the_history(folder):
    redis = cluster.Redis(folder)
    a, b = cluster.Node(SERVER, redis), cluster.Node(SERVER, redis)
    c, d = cluster.Node(SERVER, redis), cluster.Node(SERVER, redis)
    es = cluster.EventSource("eventsource, new messages only", [d.http_port], "fresh")
    try:
        for i in range(5):
            publish(a.http_port, "fresh", f"m{i}")
        st, body = get(c.http_port, "/api/rooms/fresh/messages?since=0")
        tap.check("a short poll on a node new to the room gets its history",
                  [m["id"] for m in json.loads(body)["messages"]] == [1, 2, 3, 4, 5], body)
        es.start()
        wait_for(lambda: d.stats()["transports"]["sse"]["connections"] == 1, 5)
        publish(a.http_port, "fresh", "m5")
        wait_for(lambda: es.ids, 5)
        tap.check("an EventSource without a cursor on a node new to the room begins after "
                  "its history", es.ids == [6], es.ids)
        t0 = time.monotonic()
        status, body = get(b.http_port, "/api/rooms/fresh/poll?since=0&timeout=10")
        page = json.loads(body)
        tap.check("a long poll on a node new to the room gets its history at once",
                  status == 200 and [m["id"] for m in page["messages"]][:5] == [1, 2, 3, 4, 5]
                  and time.monotonic() - t0 < 5, page)
        st, body = get(b.http_port, "/api/rooms/other/messages")
        tap.check("a short poll for a room no node has is empty and creates nothing",
                  st == 200 and json.loads(body)["last_id"] == 0 and
                  b.stats()["rooms"] == 1, (body, b.stats()["rooms"]))
        ra = json.loads(publish(a.http_port, "fresh", "once", cid="c-9")[1])
        sb, bb = publish(b.http_port, "fresh", "once", cid="c-9")
        tap.check("a cid repeated on another node gets the first answer (200, same id)",
                  sb == 200 and json.loads(bb) == ra, (sb, bb, ra))
    finally:
        es.stopping = True
        for x in (a, b, c, d):
            x.stop()
        redis.stop()


# A message in the log that no node heard of (what pub/sub loses while a
# node reconnects): the next id, appended without PUBLISH.
SILENT = """local id = redis.call('HINCRBY', KEYS[1], 'last', 1)
local json = '{"id":' .. id .. ',"room":"' .. ARGV[1] .. '","user":"eve","text":"unheard","ts":1}'
redis.call('XADD', KEYS[2], 'MAXLEN', 1000, id, 'j', json)
return id"""


def a_cursor_ahead_of_a_node_is_served_from_the_log(folder):
    redis = cluster.Redis(folder)
    a, b = cluster.Node(SERVER, redis), cluster.Node(SERVER, redis)
    try:
        publish(a.http_port, "ahead", "m1")
        get(b.http_port, "/api/rooms/ahead/messages")  # b holds the room now
        redis.command("EVAL", SILENT, "2", "pushlab:{ahead}:meta", "pushlab:{ahead}:log", "ahead")
        # A client that got id 2 from another node now asks b.
        st, body = get(b.http_port, "/api/rooms/ahead/messages?since=2")
        tap.check("a short poll with a cursor b never reached: last_id is the log's, not b's",
                  json.loads(body)["last_id"] == 2, body)
        st, body = get(b.http_port, "/api/rooms/ahead/messages?since=1")
        page = json.loads(body)
        tap.check("... and b now holds the message it never heard of",
                  [m["text"] for m in page["messages"]] == ["unheard"], body)
    finally:
        a.stop()
        b.stop()
        redis.stop()


def redis_outage_then_return(folder):
    """Redis with AOF: it comes back with its data, so ids go on."""
    redis = cluster.Redis(folder, aof=True)
    a = cluster.Node(SERVER, redis, "--redis-timeout", "500")
    b = cluster.Node(SERVER, redis, "--redis-timeout", "500")
    es = cluster.EventSource("eventsource", [b.http_port], "outage")
    try:
        es.start()
        wait_for(lambda: b.stats()["transports"]["sse"]["connections"] == 1, 5)
        for i in range(3):
            publish(a.http_port, "outage", f"m{i}")
        wait_for(lambda: len(es.ids) == 3, 5)
        streams = b.stats()["transports"]["sse"]["connections"]
        redis.kill()
        t0 = time.monotonic()
        status, body = publish(a.http_port, "outage", "lost?", cid="o-1")
        took = time.monotonic() - t0
        err = json.loads(body).get("error", {})
        tap.check("with Redis gone a publish is 503 store_unavailable",
                  status == 503 and err.get("code") == "store_unavailable", (status, body))
        tap.check("... after a bounded wait (--redis-timeout 500 ms)", took < 2.0, took)
        st, body = get(b.http_port, "/api/rooms/outage/messages?since=0")
        tap.check("readers are still answered from the node's copy",
                  st == 200 and json.loads(body)["last_id"] == 3, body)
        time.sleep(1.5)
        tap.check("the SSE stream stayed open through the outage",
                  b.stats()["transports"]["sse"]["connections"] == streams and es.errors == 0,
                  (streams, es.errors))
        redis.start()
        ok = wait_for(lambda: publish(a.http_port, "outage", "back", cid="o-2")[0] == 201, 10)
        tap.check("once Redis is back, publishes work again", ok)
        got = wait_for(lambda: len(es.ids) >= 4, 5)
        tap.check("the other node subscribed again: its stream gets the next message",
                  got and es.ids == [1, 2, 3, 4], es.ids)
    finally:
        es.stopping = True
        a.stop()
        b.stop()
        redis.stop()


def flushall_is_a_restart(folder):
    redis = cluster.Redis(folder)
    a, b = cluster.Node(SERVER, redis), cluster.Node(SERVER, redis)
    lp = cluster.LongPoller("long poll", [b.http_port], "gone")
    try:
        for i in range(4):
            publish(a.http_port, "gone", f"m{i}")
        lp.start()
        wait_for(lambda: len(lp.ids) == 4, 5)
        redis.command("FLUSHALL")
        ok = wait_for(lambda: json.loads(get(b.http_port, "/api/rooms/gone/messages")[1])
                      ["last_id"] == 0, 5)
        tap.check("after FLUSHALL a node reports the room empty (last_id 0 < a client's cursor)",
                  ok)
        tap.check("... and counts a restart", b.stats()["store"]["restarts"] >= 1,
                  b.stats()["store"])
        status, body = publish(a.http_port, "gone", "first again")
        tap.check("ids begin again at 1", json.loads(body)["id"] == 1, body)
    finally:
        lp.stopping = True
        a.stop()
        b.stop()
        redis.stop()


def nothing_acknowledged_is_lost_when_everything_dies(folder):
    """appendonly yes, appendfsync always: kill -9 every node and Redis."""
    redis = cluster.Redis(folder, aof=True)
    nodes = [cluster.Node(SERVER, redis) for _ in range(3)]
    try:
        pub = cluster.Publisher([x.http_port for x in nodes], "durable")
        for k in range(1, 41):
            pub.send(k)
        for x in nodes:
            x.kill()
        redis.kill()
        redis.start()
        fresh = cluster.Node(SERVER, redis)
        try:
            st, body = get(fresh.http_port, "/api/rooms/durable/messages?since=0&limit=1000")
            kept = {m["id"]: m["text"] for m in json.loads(body)["messages"]}
            tap.check("after kill -9 of all nodes and Redis, every acknowledged message is there",
                      kept == pub.acked and len(kept) == 40, (len(kept), len(pub.acked)))
        finally:
            fresh.stop()
    finally:
        for x in nodes:
            x.stop()
        redis.stop()


def main():
    for test in (three_nodes_one_killed_halfway, first_use_on_a_node_loads_the_history,
                 a_cursor_ahead_of_a_node_is_served_from_the_log,
                 redis_outage_then_return, flushall_is_a_restart,
                 nothing_acknowledged_is_lost_when_everything_dies):
        folder = cluster.tempdir()
        try:
            test(folder)
        except Exception as e:  # a broken step fails its test, not the run
            tap.check(test.__name__, False, repr(e))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
