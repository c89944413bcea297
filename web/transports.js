// The four subscribers, one class per transport and one interface for all,
// as the server does it: start() subscribes after the panel's cursor, stop()
// lets go. Each reports what it does to a `ctx` that the panel provides:
//   ctx.cursor()          last id delivered, where a (re)subscription resumes
//   ctx.deliver(msg)      one message, in the order it arrived
//   ctx.request()         one HTTP request made (a WebSocket handshake is one)
//   ctx.bytes(n)          bytes received, as far as the browser can tell
//   ctx.state(text)       what the subscription is doing now
//   ctx.error(err)        something went wrong (shown, and drawn in red)
//   ctx.trimmed()         the server says history after the cursor was trimmed
//   ctx.rewound(lastId)   the room's newest id is below the cursor: the server
//                         restarted with an empty room, ids begin again at 1
//   ctx.lane              the panel's timeline lane (see timeline.js)
import { roomPath } from './api.js';

const PAGE_LIMIT = 100;
const LONG_POLL_TIMEOUT_S = 25;
const RETRY_MS = 2000;
const WS_PING_MS = 15000;

const utf8 = new TextEncoder();

// One fetch of a polling page, drawn as a span from request to response.
// Returns the page, or null when aborted or rewound (the loop then ends);
// throws on HTTP or network errors.
async function fetchPage(ctx, url, signal) {
  ctx.request();
  ctx.lane.mark('up');
  const span = ctx.lane.open();
  try {
    const res = await fetch(url, { signal, cache: 'no-store' });
    const page = await res.json();
    if (!res.ok) throw new Error(`${res.status} ${page.error ? page.error.message : ''}`);
    ctx.lane.close(span, page.messages.length ? 'msg' : 'empty');
    if (page.last_id < ctx.cursor()) {
      ctx.rewound(page.last_id);
      return null;
    }
    if (page.gap) ctx.trimmed();
    for (const m of page.messages) ctx.deliver(m);
    return page;
  } catch (err) {
    if (signal.aborted) {
      ctx.lane.close(span, 'cut');
      return null;
    }
    ctx.lane.close(span, 'bad');
    throw err;
  }
}

// Shared loop of both polling styles: ask, deliver, wait, ask again.
class Poller {
  constructor(ctx) {
    this.ctx = ctx;
    this.running = false;
    this.timer = 0;
    this.abort = null;
    this.inFlight = false;
  }

  start() {
    this.running = true;
    this.loop();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    if (this.abort) this.abort.abort();
    this.abort = null;
    this.inFlight = false;
    this.ctx.state('disconnected');
  }

  async loop() {
    if (!this.running) return;
    const abort = (this.abort = new AbortController());
    let wait = RETRY_MS;
    this.timer = 0;
    this.inFlight = true;
    try {
      this.ctx.state(this.busyState);
      const page = await fetchPage(this.ctx, this.url(), abort.signal);
      if (this.abort !== abort) return; // stopped meanwhile: a newer loop owns the state
      this.inFlight = false;
      if (!page) return;
      // A full page means more is waiting: drain before pausing.
      const more = page.messages.length > 0 && this.ctx.cursor() < page.last_id;
      wait = more ? 0 : this.pauseMs();
      this.ctx.state(this.idleState);
    } catch (err) {
      if (this.abort !== abort) return;
      this.inFlight = false;
      this.ctx.error(err);
    }
    if (this.running) this.timer = setTimeout(() => this.loop(), wait);
  }
}

/** `fetch` every intervalMs: simple, and every request costs even when idle. */
export class ShortPoll extends Poller {
  constructor(ctx) {
    super(ctx);
    this.intervalMs = 2000;
    this.busyState = 'asking';
    this.idleState = 'waiting';
  }

  url() {
    return `${roomPath(this.ctx.room)}/messages?since=${this.ctx.cursor()}&limit=${PAGE_LIMIT}`;
  }

  pauseMs() {
    return this.intervalMs;
  }

  /** Applies a new interval at once rather than after the current wait. */
  setInterval(ms) {
    this.intervalMs = ms;
    if (!this.running || this.inFlight) return; // the loop picks it up
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.loop(), ms);
  }
}

/** `fetch` that the server holds until a message exists, then asks again. */
export class LongPoll extends Poller {
  constructor(ctx) {
    super(ctx);
    this.busyState = 'held';
    this.idleState = 'asking';
  }

  url() {
    return `${roomPath(this.ctx.room)}/poll?since=${this.ctx.cursor()}&timeout=${LONG_POLL_TIMEOUT_S}`;
  }

  pauseMs() {
    return 0;
  }
}

/**
 * EventSource: one response that never ends. The browser reconnects by itself
 * with Last-Event-ID; a fresh EventSource cannot set that header, so an
 * explicit reconnect resumes with ?since= instead.
 */
export class Sse {
  constructor(ctx) {
    this.ctx = ctx;
    this.es = null;
    this.span = null;
    this.retry = 0;
  }

  start() {
    const ctx = this.ctx;
    const es = (this.es = new EventSource(`${roomPath(ctx.room)}/events?since=${ctx.cursor()}`));
    this.begin();
    es.onopen = () => {
      if (!this.span) this.begin(); // the browser's own reconnect
      ctx.state('streaming');
    };
    es.addEventListener('message', (e) => {
      // What the script sees of the stream: the event's own lines.
      ctx.bytes(utf8.encode(`id: ${e.lastEventId}\nevent: message\ndata: ${e.data}\n\n`).length);
      const msg = parseJson(e.data);
      if (msg) ctx.deliver(msg);
      else ctx.error(new Error('an event whose data is not JSON'));
    });
    es.onerror = () => {
      this.end('bad');
      if (es.readyState !== EventSource.CLOSED) return ctx.state('retrying');
      // Refused (not 200 or not an event stream): the browser gives up, we don't.
      ctx.error(new Error('the server refused the event stream'));
      ctx.state('retrying');
      this.retry = setTimeout(() => this.es === es && this.start(), RETRY_MS);
    };
  }

  begin() {
    this.ctx.request();
    this.ctx.lane.mark('up');
    this.span = this.ctx.lane.open();
    this.ctx.state('connecting');
  }

  end(how) {
    if (this.span) this.ctx.lane.close(this.span, how);
    this.span = null;
  }

  stop() {
    clearTimeout(this.retry);
    if (this.es) this.es.close();
    this.es = null;
    this.end('cut');
    this.ctx.state('disconnected');
  }
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// Bytes of a server-to-client text frame: payload plus the 2, 4 or 10 byte
// header (unmasked, as servers send).
function frameBytes(text) {
  const n = utf8.encode(text).length;
  return n + (n < 126 ? 2 : n < 65536 ? 4 : 10);
}

/** WebSocket: one handshake, then frames both ways on one connection. */
export class Ws {
  /** `wsUrl(room)`: the room's WebSocket URL, from GET /api/config. */
  constructor(ctx, wsUrl) {
    this.ctx = ctx;
    this.wsUrl = wsUrl;
    this.ws = null;
    this.span = null;
    this.pingTimer = 0;
    this.retryTimer = 0;
  }

  start() {
    const ctx = this.ctx;
    const ws = (this.ws = new WebSocket(`${this.wsUrl(ctx.room)}?since=${ctx.cursor()}`));
    ctx.request();
    ctx.lane.mark('up');
    this.span = ctx.lane.open();
    ctx.state('handshake');
    // Handlers of a socket we already let go of must not touch the new one.
    const current = () => this.ws === ws;
    let opened = false;
    ws.onopen = () => {
      if (!current()) return;
      opened = true;
      ctx.state('open');
      this.pingTimer = setInterval(() => this.ping(), WS_PING_MS);
    };
    ws.onmessage = (e) => current() && this.frame(e.data);
    ws.onclose = (e) => {
      if (!current()) return;
      clearInterval(this.pingTimer);
      ctx.lane.close(this.span, 'bad');
      this.span = null;
      // A refused handshake reaches scripts as a bare 1006, whatever the status.
      const why = opened ? `closed (code ${e.code})` : `handshake refused or unreachable (code ${e.code}): see the console`;
      ctx.error(new Error(why));
      ctx.state('retrying');
      this.retryTimer = setTimeout(() => current() && this.start(), RETRY_MS);
    };
  }

  frame(data) {
    const ctx = this.ctx;
    ctx.bytes(frameBytes(data));
    if (data === 'pong') return ctx.lane.mark('ctl');
    const f = parseJson(data);
    if (!f) return ctx.error(new Error('a frame that is not JSON'));
    if (f.type === 'message') {
      const msg = { ...f };
      delete msg.type;
      ctx.deliver(msg);
    } else if (f.type === 'pong') {
      ctx.lane.mark('ctl');
    } else if (f.type === 'error') {
      ctx.error(new Error(`${f.code}: ${f.message}`));
    }
  }

  ping() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send('{"type":"ping"}');
      this.ctx.lane.mark('ctl-up');
    }
  }

  stop() {
    clearInterval(this.pingTimer);
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null; // first: its close handler is now stale
    if (ws) ws.close(1000, 'bye');
    if (this.span) this.ctx.lane.close(this.span, 'cut');
    this.span = null;
    this.ctx.state('disconnected');
  }
}
