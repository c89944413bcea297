// The subscribers and the publisher, as an ordinary user of each server
// writes them with the stock libraries: npm ws with its default options,
// npm eventsource, and http GETs over a keep-alive agent for long polling
// (pushlab's since cursor; nchan's Last-Modified/Etag). Each subscriber
// hands every message text to onText(text) and counts its own requests.
import http from 'node:http';
import WebSocket from 'ws';
import { EventSource } from 'eventsource';

// How each target names things (pushlab: docs/protocol.md; nchan:
// bench/targets/nchan.conf) and what its messages look like on the wire.
export const dialects = {
  pushlab: {
    wsUrl: (s, room) => `${s.ws}/ws/${room}`,
    sseUrl: (s, room) => `${s.http}/api/rooms/${room}/events`,
    pubPath: (room) => `/api/rooms/${room}/messages`,
    pubBody: (text) => ({ type: 'application/json', body: JSON.stringify({ user: 'bench', text }) }),
    // A frame is a JSON object; only {"type":"message"} carries a message.
    wsText: (data) => {
      const m = JSON.parse(data);
      return m.type === 'message' ? m.text : null;
    },
    sseText: (data) => JSON.parse(data).text,
    storedId: (body) => {
      try {
        return JSON.parse(body).id ?? null;
      } catch {
        return null;
      }
    },
  },
  nchan: {
    wsUrl: (s, room) => `${s.ws}/sub/ws?id=${room}`,
    sseUrl: (s, room) => `${s.http}/sub/sse?id=${room}`,
    pubPath: (room) => `/pub?id=${room}`,
    pubBody: (text) => ({ type: 'text/plain', body: text }),
    wsText: (data) => data,
    sseText: (data) => data,
    storedId: () => null,
  },
};

// A WebSocket subscriber: new WebSocket(url), nothing else set.
function openWs(target, server, room, onText) {
  const sub = { requests: 1, errors: 0, extensions: '' };
  const ws = new WebSocket(dialects[target].wsUrl(server, room));
  sub.close = () => ws.terminate();
  // Bytes read from its TCP socket (ws's own socket; 0 before the handshake).
  sub.bytesIn = () => (ws._socket ? ws._socket.bytesRead : 0);
  sub.opened = new Promise((resolve, reject) => {
    ws.once('open', () => { sub.extensions = ws.extensions; resolve(); });
    ws.once('error', reject);
  });
  ws.on('error', () => { sub.errors++; });
  ws.on('close', (code, reason) => { sub.closed = { code, reason: reason.toString(), at_ms: performance.now() }; });
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = dialects[target].wsText(data.toString());
    if (text !== null) onText(text);
  });
  return sub;
}

// An SSE subscriber: the eventsource package (WHATWG API, on global fetch).
function openSse(target, server, room, onText) {
  const sub = { requests: 1, errors: 0 };
  const es = new EventSource(dialects[target].sseUrl(server, room));
  sub.close = () => es.close();
  sub.opened = new Promise((resolve, reject) => {
    es.onopen = () => resolve();
    es.onerror = (e) => {
      sub.errors++;
      reject(new Error(e.message || 'EventSource error'));
    };
  });
  es.onmessage = (e) => onText(dialects[target].sseText(e.data));
  return sub;
}

// One GET; `sent` is called once the request is on the wire. Returns the
// request (to abort it) and a promise of the whole answer.
function get(agent, url, headers, sent) {
  let req;
  const answer = new Promise((resolve, reject) => {
    req = http.get(url, { agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('finish', sent);
  });
  return { req, answer };
}

// One long-poll step per target: the request for the state `at`, and what an
// answer gives (the message texts and the next state).
const longPoll = {
  pushlab: {
    first: { since: 0 },
    url: (s, room, at) => `${s.http}/api/rooms/${room}/poll?since=${at.since}&timeout=25`,
    headers: () => ({}),
    answer: (res, at) => {
      if (res.status !== 200) throw new Error(`poll answered ${res.status}`);
      const page = JSON.parse(res.body);
      const texts = page.messages.map((m) => m.text);
      const next = page.messages.length ? { since: page.messages[page.messages.length - 1].id } : at;
      return { texts, next };
    },
  },
  nchan: {
    first: {},
    url: (s, room) => `${s.http}/sub/lp?id=${room}`,
    headers: (at) => (at.modified ? { 'If-Modified-Since': at.modified, 'If-None-Match': at.etag } : {}),
    answer: (res, at) => {
      // 304 or 408: nothing new before nchan's timeout; ask again the same way.
      if (res.status === 304 || res.status === 408) return { texts: [], next: at };
      if (res.status !== 200) throw new Error(`lp answered ${res.status}`);
      return { texts: [res.body], next: { modified: res.headers['last-modified'], etag: res.headers.etag } };
    },
  },
};

// A long-polling subscriber: GET, read the answer, GET again from there.
function openLongPoll(target, server, room, onText, agent) {
  const lp = longPoll[target];
  const sub = { requests: 0, errors: 0, stopped: false };
  let sentFirst, current;
  sub.opened = new Promise((resolve) => { sentFirst = resolve; });
  sub.close = () => {
    sub.stopped = true;
    if (current) current.req.destroy();
  };
  (async () => {
    let at = lp.first;
    while (!sub.stopped) {
      sub.requests++;
      current = get(agent, lp.url(server, room, at), lp.headers(at), sentFirst);
      try {
        const res = await current.answer;
        if (sub.stopped) break;
        const step = lp.answer(res, at);
        at = step.next;
        for (const t of step.texts) onText(t);
      } catch (e) {
        if (sub.stopped) break;
        sub.errors++;
        sub.lastError = e.message;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();
  return sub;
}

// Opens one subscriber of `transport`; `shared.agent` is the long pollers' agent.
export function openSubscriber(transport, target, server, room, onText, shared) {
  if (transport === 'ws') return openWs(target, server, room, onText);
  if (transport === 'sse') return openSse(target, server, room, onText);
  return openLongPoll(target, server, room, onText, shared.agent);
}

export function longPollAgent() {
  return new http.Agent({ keepAlive: true, maxSockets: Infinity });
}

// A publisher over one keep-alive agent: publish(text) resolves to the
// HTTP status (0 when the request failed) and the stored id where the
// answer says it (pushlab's 201 body; nchan's answer has none).
export function publisher(target, server) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const base = new URL(server.http);
  const publish = (room, text) => new Promise((resolve) => {
    const { type, body } = dialects[target].pubBody(text);
    const req = http.request({
      host: base.hostname, port: base.port, method: 'POST', path: dialects[target].pubPath(room), agent,
      headers: { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, id: dialects[target].storedId(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', () => resolve({ status: 0, id: null }));
    req.end(body);
  });
  return { publish, close: () => agent.destroy() };
}
