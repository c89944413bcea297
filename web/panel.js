// One transport's panel: its message list, its counters and its controls.
// It is the `ctx` its subscriber reports to (see transports.js), checks ids
// for gaps and duplicates, and measures each delivery's latency.
// User text only ever goes into the page through textContent.
import { Sequence, Window } from './seq.js';
import { pageNow } from './clock.js';

const MAX_ROWS = 200; // the list keeps the newest rows only

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function fmtMs(ms) {
  if (!Number.isFinite(ms)) return '–';
  if (Math.abs(ms) < 10) return `${ms.toFixed(2)} ms`;
  if (Math.abs(ms) < 1000) return `${ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function fmtBytes(n) {
  if (n < 10000) return `${n} B`;
  if (n < 10e6) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

export class Panel {
  /**
   * `spec`: { key, title, how, color, bytesNote }; `lane`: its timeline lane;
   * `clock`: the ServerClock; `onBurst(button)`: publishes a burst;
   * `onRewind()`: the room's ids started over, every panel must rejoin.
   */
  constructor(template, spec, lane, clock, onBurst, onRewind) {
    this.onRewind = onRewind;
    this.spec = spec;
    this.lane = lane;
    this.clock = clock;
    this.root = template.content.firstElementChild.cloneNode(true);
    this.root.id = `panel-${spec.key}`;
    this.root.dataset.transport = spec.key;
    this.root.style.setProperty('--lane', spec.color);
    this.root.querySelector('.title').textContent = spec.title;
    this.root.querySelector('.how').textContent = spec.how;
    this.root.querySelector('.panel-head').title = spec.how; // where .how is hidden
    this.list = this.root.querySelector('.messages');
    this.stateEl = this.root.querySelector('.state');
    this.toggleBtn = this.root.querySelector('.toggle');
    this.toggleBtn.addEventListener('click', () => (this.connected ? this.disconnect() : this.connect()));
    this.root.querySelector('.burst').addEventListener('click', (e) => onBurst(e.currentTarget));
    if (spec.bytesNote) this.root.querySelector('[data-k="bytes"]').title = spec.bytesNote;
    this.sub = null;
    this.connected = false;
    this.reset('', 0);
    // The timeline's LTE band changes with time alone, not only per event.
    setInterval(() => this.renderRadio(), 1000);
  }

  renderRadio() {
    const r = this.lane.radio;
    this.root.querySelector('[data-k="radio"]').textContent = r ? `≈ ${Math.round(r.avgMw)} mW` : '–';
  }

  /** Starts over in `room`, subscribing after `startId`. */
  reset(room, startId) {
    this.room = room;
    this.seq = new Sequence(startId);
    this.latencies = new Window();
    this.n = { requests: 0, messages: 0, bytes: 0, lastLat: NaN };
    this.list.replaceChildren();
    this.render();
  }

  attach(sub) {
    this.sub = sub;
  }

  connect() {
    this.connected = true;
    this.toggleBtn.textContent = 'disconnect';
    this.root.classList.remove('off');
    this.sub.start();
  }

  disconnect() {
    this.connected = false;
    this.toggleBtn.textContent = `reconnect from #${this.seq.lastId}`;
    this.root.classList.add('off');
    this.sub.stop();
    this.lane.mark('off');
  }

  // --- the ctx interface the subscribers call ---

  cursor() {
    return this.seq.lastId;
  }

  deliver(msg) {
    const at = pageNow();
    const verdict = this.seq.accept(msg.id);
    if (verdict.kind === 'dup') {
      this.lane.mark('bad');
      this.addRow(el('li', 'note dup', `duplicate #${msg.id}, ignored`));
      return this.render();
    }
    if (verdict.kind === 'gap') {
      this.lane.mark('bad');
      const range = verdict.from === verdict.to ? `#${verdict.from}` : `#${verdict.from}–#${verdict.to}`;
      this.addRow(el('li', 'note gap', `gap: ${range} never arrived`));
    }
    this.n.messages++;
    this.n.lastLat = this.clock.latencyMs(msg.ts, at); // NaN without a ts
    if (Number.isFinite(this.n.lastLat)) this.latencies.add(this.n.lastLat);
    this.lane.mark('msg', msg.id);
    this.addRow(this.messageRow(msg));
    this.render();
  }

  request() {
    this.n.requests++;
    this.render();
  }

  bytes(n) {
    this.n.bytes += n;
    this.render();
  }

  state(text) {
    this.stateEl.textContent = text;
  }

  // Errors repeat while a server is down: one row with a count, not a flood.
  error(err) {
    this.lane.mark('bad');
    const text = String(err.message || err);
    const last = this.list.lastElementChild;
    if (last && last.classList.contains('err') && last.dataset.text === text) {
      last.dataset.count = Number(last.dataset.count) + 1;
      last.textContent = `${text} (×${last.dataset.count})`;
      return;
    }
    const li = el('li', 'note err', text);
    li.dataset.text = text;
    li.dataset.count = 1;
    this.addRow(li);
  }

  rewound(newest) {
    this.lane.mark('bad');
    this.addRow(el('li', 'note gap', `the room restarted (newest #${newest}, we had #${this.seq.lastId})`));
    this.onRewind();
  }

  trimmed() {
    this.addRow(el('li', 'note gap', 'the server trimmed history after our last id'));
  }

  // --- drawing ---

  messageRow(msg) {
    const li = el('li', 'msg');
    li.dataset.id = msg.id;
    li.append(
      el('span', 'id', `#${msg.id}`),
      el('span', 'user', String(msg.user)),
      el('span', 'text', String(msg.text)),
      el('span', 'lat', fmtMs(this.n.lastLat)),
    );
    return li;
  }

  addRow(li) {
    const stick = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 4;
    this.list.append(li);
    while (this.list.childElementCount > MAX_ROWS) this.list.firstElementChild.remove();
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }

  // Counters change per message; a burst must not redraw them 400 times a frame.
  render() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      const set = (k, v) => (this.root.querySelector(`[data-k="${k}"]`).textContent = v);
      set('requests', this.n.requests);
      set('messages', this.n.messages);
      set('bytes', fmtBytes(this.n.bytes));
      set('last', this.seq.lastId ? `#${this.seq.lastId}` : '–');
      set('lat-last', fmtMs(this.n.lastLat));
      set('lat-median', fmtMs(this.latencies.median()));
      set('gaps', this.seq.gaps ? `${this.seq.gaps} (${this.seq.missing} ids)` : '0');
      set('dups', this.seq.dups);
      this.root.classList.toggle('has-bad', this.seq.gaps + this.seq.dups > 0);
    });
  }
}
