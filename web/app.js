// The demo page's wiring: finds the WebSocket listener, builds the four
// panels and their timeline lanes, runs the composer and the room selector,
// and routes Resource Timing byte counts to the polling panels.
import { ROOM_RE, burst, getConfig, lastId, publish, roomPath } from './api.js';
import { ServerClock } from './clock.js';
import { Panel } from './panel.js';
import { Timeline } from './timeline.js';
import { LongPoll, ShortPoll, Sse, Ws } from './transports.js';

const BURST = 100;
const CLOCK_ROOM = 'pushlab-clock';
const CLOCK_PROBES = 8;

const SPECS = [
  { key: 'short_poll', title: 'Short polling', color: '#2563eb', lane: 'fetch on a timer',
    how: 'fetch GET …/messages?since=LAST on a timer: every tick is a full request, even when nothing is new.',
    bytesNote: 'transferSize of every response (Resource Timing): headers and body' },
  { key: 'long_poll', title: 'Long polling', color: '#d97706', lane: 'held until news',
    how: 'fetch GET …/poll?since=LAST: the server holds the request until a message exists (or 25 s), then the page asks again.',
    bytesNote: 'transferSize of every response (Resource Timing): headers and body' },
  { key: 'sse', title: 'Server-Sent Events', color: '#059669', lane: 'one endless response',
    how: 'EventSource on …/events?since=LAST: one response that never ends, one event per message.',
    bytesNote: 'the events\u2019 own lines as the script sees them; headers and pings are invisible' },
  { key: 'ws', title: 'WebSocket', color: '#7c3aed', lane: 'frames both ways',
    how: 'WebSocket to /ws/ROOM?since=LAST: one handshake, then one text frame per message, both directions.',
    bytesNote: 'frame payloads plus their 2-10 byte headers; the handshake is invisible' },
];

const $ = (sel) => document.querySelector(sel);

// The WebSocket URL of a room, from the config's ws_url and ws_path
// ("/ws/{room}" when absent). A wildcard bind address is replaced by the
// host the page came from.
function wsUrlMaker(cfg) {
  const u = new URL(cfg.ws_url);
  if (['0.0.0.0', '[::]', ''].includes(u.hostname)) u.hostname = location.hostname;
  const base = `${u.protocol}//${u.host}`;
  const path = cfg.ws_path || '/ws/{room}';
  return (room) => base + path.replace('{room}', encodeURIComponent(room));
}

function initialRoom() {
  const q = new URLSearchParams(location.search).get('room');
  return q && ROOM_RE.test(q) ? q : 'lobby';
}

function initialUser() {
  const saved = localStorage.getItem('pushlab.user');
  return saved || `guest-${Math.floor(Math.random() * 9000 + 1000)}`;
}

class App {
  constructor(cfg) {
    this.clock = new ServerClock();
    this.timeline = new Timeline($('#timeline'));
    this.room = initialRoom();
    this.status = $('#publish-status');
    const wsUrl = wsUrlMaker(cfg);
    const tpl = $('#panel-tpl');
    this.panels = {};
    for (const spec of SPECS) {
      const lane = this.timeline.addLane(spec.key, spec.title, spec.lane, spec.color);
      const panel = new Panel(tpl, spec, lane, this.clock, (btn) => this.burst(btn), () => this.rejoin());
      const Sub = { short_poll: ShortPoll, long_poll: LongPoll, sse: Sse, ws: Ws }[spec.key];
      panel.attach(new Sub(panel, wsUrl));
      this.panels[spec.key] = panel;
      $('#panels').append(panel.root);
    }
    this.wireInterval();
    this.wireForms();
    this.watchResourceTiming();
    this.clock.onChange(() => ($('#clock-note').textContent = this.clock.describe()));
    $('#clock-note').textContent = this.clock.describe();
    this.timeline.start();
  }

  wireInterval() {
    const panel = this.panels.short_poll;
    const label = panel.root.querySelector('.interval');
    const slider = label.querySelector('input');
    const show = () => {
      const ms = Number(slider.value);
      label.querySelector('.interval-val').textContent = ms < 1000 ? `${ms} ms` : `${ms / 1000} s`;
      panel.sub.setInterval(ms);
      panel.lane.sub = `fetch every ${label.querySelector('.interval-val').textContent}`;
    };
    label.hidden = false;
    slider.addEventListener('input', show);
    show();
  }

  wireForms() {
    $('#room').value = this.room;
    $('#user').value = initialUser();
    $('#room-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const room = $('#room').value.trim();
      if (!ROOM_RE.test(room)) return this.say('a room name is 1-64 of A-Z a-z 0-9 _ -', true);
      const url = new URL(location.href);
      url.searchParams.set('room', room);
      history.replaceState(null, '', url);
      this.join(room).catch((err) => this.say(`cannot join ${room}: ${err.message}`, true));
    });
    // A form's submit is what makes Enter in the message field send.
    $('#composer').addEventListener('submit', async (e) => {
      e.preventDefault();
      const user = $('#user').value.trim();
      const text = $('#text').value;
      if (!user || !text) return;
      localStorage.setItem('pushlab.user', user);
      try {
        const msg = await publish(this.room, user, text, this.clock);
        $('#text').value = '';
        this.say(`published #${msg.id}`);
      } catch (err) {
        this.say(`publish failed: ${err.message}`, true);
      }
    });
  }

  async burst(btn) {
    btn.disabled = true;
    const user = $('#user').value.trim() || 'burst';
    try {
      this.say(`publishing ${BURST} messages…`);
      const n = await burst(this.room, user, BURST, this.clock);
      this.say(`burst: ${n} messages published`);
    } catch (err) {
      this.say(`burst failed: ${err.message}`, true);
    } finally {
      btn.disabled = false;
    }
  }

  say(text, bad = false) {
    this.status.textContent = text;
    this.status.classList.toggle('bad', bad);
  }

  // Polling bytes come from Resource Timing: transferSize is headers plus
  // body as received. The URL tells which panel asked (a GET of /messages
  // carries ?since=, a publish does not).
  watchResourceTiming() {
    performance.addEventListener('resourcetimingbufferfull', () => performance.clearResourceTimings());
    new PerformanceObserver((list) => {
      const base = roomPath(this.room);
      for (const e of list.getEntries()) {
        const u = new URL(e.name);
        if (u.pathname === `${base}/messages` && u.searchParams.has('since'))
          this.panels.short_poll.bytes(e.transferSize);
        else if (u.pathname === `${base}/poll`) this.panels.long_poll.bytes(e.transferSize);
      }
    }).observe({ type: 'resource' });
  }

  // The server restarted with an empty store: its ids begin at 1 again, so
  // every panel's cursor is wrong. Start the room over, once, from its first
  // message: all the new server stored came after the restart.
  rejoin() {
    if (this.joining) return;
    this.join(this.room, 'the server restarted the room', 0).catch((err) => this.say(`cannot rejoin: ${err.message}`, true));
  }

  // Joins `room` after id `from`, by default after its newest message.
  async join(room, why = '', from = null) {
    this.joining = true;
    try {
      await this.switchTo(room, why, from);
    } finally {
      this.joining = false;
    }
  }

  async switchTo(room, why, from = null) {
    for (const p of Object.values(this.panels)) if (p.connected) p.disconnect();
    this.room = room;
    document.title = `pushlab: ${room}`;
    const start = from ?? await lastId(room);
    for (const p of Object.values(this.panels)) {
      p.reset(room, start);
      p.connect();
    }
    this.say(`${why ? `${why}: ` : ''}joined ${room} after #${start}`);
  }

  // A few publishes into a room of their own give the round trips the
  // clock offset is measured from; the user's own publishes refine it.
  async measureClock() {
    for (let i = 0; i < CLOCK_PROBES; i++) await publish(CLOCK_ROOM, 'pushlab-page', 'clock probe', this.clock);
  }
}

async function main() {
  try {
    const cfg = await getConfig();
    const app = new App(cfg);
    window.pushlab = app; // for the console and the browser tests
    await app.measureClock().catch((err) => app.say(`clock probe failed: ${err.message}`, true));
    await app.join(app.room);
    document.body.dataset.ready = '1';
  } catch (err) {
    const p = document.createElement('p');
    p.className = 'fatal';
    p.textContent = `pushlab could not start: ${err.message}`;
    document.body.prepend(p);
  }
}

main();
