// The HTTP side of the protocol the page speaks outside its four
// subscribers: configuration, publishing, and where a room's history ends.
import { pageNow } from './clock.js';

export const ROOM_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** Base path of a room's HTTP endpoints; `room` must match ROOM_RE. */
export function roomPath(room) {
  return `/api/rooms/${encodeURIComponent(room)}`;
}

async function jsonOrThrow(res) {
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const why = body && body.error ? body.error.message : res.statusText;
    throw new Error(`${res.status} ${why}`);
  }
  return body;
}

/** GET /api/config: { ws_url, version }. */
export async function getConfig() {
  return jsonOrThrow(await fetch('/api/config', { cache: 'no-store' }));
}

/** The room's newest id (0 when empty): where live subscribers start. */
export async function lastId(room) {
  const res = await fetch(`${roomPath(room)}/messages?since=0&limit=1`, { cache: 'no-store' });
  return (await jsonOrThrow(res)).last_id;
}

function randomCid() {
  const a = new Uint32Array(2);
  crypto.getRandomValues(a);
  return `web-${a[0].toString(36)}${a[1].toString(36)}`;
}

/**
 * Publishes one message and returns the stored one. A `cid` makes a retried
 * publish safe. `clock` (a ServerClock), when given, learns from the round trip.
 */
export async function publish(room, user, text, clock) {
  const t0 = pageNow();
  const res = await fetch(`${roomPath(room)}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user, text, cid: randomCid() }),
  });
  const t1 = pageNow();
  const msg = await jsonOrThrow(res);
  if (clock && typeof msg.ts === 'number') clock.sample(t0, t1, msg.ts);
  return msg;
}

/**
 * Publishes `n` numbered messages with at most `parallel` requests in flight
 * (a browser keeps 6 connections per host, and two are held by the long poll
 * and the event stream). Resolves to the count stored.
 */
export async function burst(room, user, n, clock, parallel = 3) {
  let next = 0;
  let stored = 0;
  const worker = async () => {
    while (next < n) {
      const i = ++next;
      await publish(room, user, `burst ${i}/${n}`, clock);
      stored++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return stored;
}
