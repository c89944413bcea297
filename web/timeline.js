// The timeline: one lane per transport over the last 30 seconds, so a room
// full of people sees short polling tick, long polling hold, SSE stream and
// WebSocket frame. Subscribers record spans (a request or connection open)
// and marks (a single event); a throttled animation frame draws them. Under
// each lane a band shows what those same events would do to a phone's LTE
// radio (web/radio.js): short polling's never rests.
import { lteWindow } from './radio.js';

const WINDOW_MS = 30000;
// The radio's state at the window's left edge depends on the 10.4 s before.
const RADIO_LEAD_MS = 11000;
const RADIO_EVERY_MS = 250; // the band is recomputed 4 times a second
const MAX_ITEMS = 4000; // per lane and kind: a burst must not grow memory
const FRAME_MS = 50; // 20 redraws a second is smooth enough and cheap
const LABEL_W = 190;
const AXIS_H = 26;

export const COLORS = {
  ink: '#1f2937',
  muted: '#6b7280',
  grid: '#e5e7eb',
  bad: '#dc2626',
  bg: '#ffffff',
  promo: '#f59e0b', // the radio waking up
};

// What each event is on the radio: sent (up) or received. A span's start
// is its request (also an 'up' mark), its end the answer.
const MARK_UP = { up: true, 'ctl-up': true, off: true, msg: false, ctl: false, bad: false };

/** One transport's row: what the subscribers write into. */
class Lane {
  constructor(key, label, sub, color) {
    Object.assign(this, { key, label, sub, color });
    this.spans = []; // { t0, t1 (null while open), how }
    this.marks = []; // { t, kind }
  }

  /** Starts a span (a request or connection) now; returns its handle. */
  open() {
    const span = { t0: performance.now(), t1: null, how: null };
    push(this.spans, span);
    return span;
  }

  /** Ends `span`; `how`: 'msg', 'empty', 'bad' or 'cut' (closed by us). */
  close(span, how) {
    span.t1 = performance.now();
    span.how = how;
  }

  /**
   * A point event: 'up', 'msg', 'ctl', 'ctl-up', 'bad' or 'off' (the user
   * disconnected). A message's `id` is written beside it where there is room.
   */
  mark(kind, id = 0) {
    push(this.marks, { t: performance.now(), kind, id });
  }

  /** The lane's events as radio packets, seconds on the page's clock, in order. */
  packets() {
    const out = [];
    for (const m of this.marks) if (m.kind in MARK_UP) out.push({ t: m.t / 1000, up: MARK_UP[m.kind] });
    for (const s of this.spans) if (s.t1 !== null && s.how !== 'cut') out.push({ t: s.t1 / 1000, up: false });
    return out.sort((a, b) => a.t - b.t);
  }

  /**
   * The LTE band over the window ending `now` (cached for RADIO_EVERY_MS),
   * from the page's start at the earliest: what the radio did before it is
   * not the page's to know.
   */
  radioAt(now) {
    if (!this.radio || now - this.radio.at >= RADIO_EVERY_MS) {
      const w = lteWindow(this.packets(), Math.max(0, now - WINDOW_MS) / 1000, now / 1000);
      this.radio = { at: now, ranges: w.ranges, avgMw: w.avgMw };
    }
    return this.radio;
  }

  prune(now) {
    const old = now - WINDOW_MS - RADIO_LEAD_MS - 1000;
    while (this.marks.length && this.marks[0].t < old) this.marks.shift();
    while (this.spans.length && this.spans[0].t1 !== null && this.spans[0].t1 < old) this.spans.shift();
  }
}

function push(list, item) {
  if (list.length >= MAX_ITEMS) list.shift();
  list.push(item);
}

export class Timeline {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.lanes = [];
    this.frames = 0;
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
  }

  addLane(key, label, sub, color) {
    const lane = new Lane(key, label, sub, color);
    this.lanes.push(lane);
    return lane;
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    this.w = this.canvas.clientWidth;
    this.h = this.canvas.clientHeight;
    this.canvas.width = Math.round(this.w * dpr);
    this.canvas.height = Math.round(this.h * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  // A frame every FRAME_MS, not at the display's rate: a third of the
  // wake-ups of a bare requestAnimationFrame loop, and none in a hidden tab.
  start() {
    const tick = () => {
      this.draw(performance.now());
      setTimeout(() => requestAnimationFrame(tick), FRAME_MS);
    };
    requestAnimationFrame(tick);
  }

  x(t, now) {
    const plot = this.w - LABEL_W - 12;
    return LABEL_W + plot * (1 - (now - t) / WINDOW_MS);
  }

  draw(now) {
    const g = this.ctx;
    g.clearRect(0, 0, this.w, this.h);
    this.drawGrid(now);
    const laneH = (this.h - AXIS_H) / Math.max(1, this.lanes.length);
    this.lanes.forEach((lane, i) => {
      lane.prune(now);
      this.drawLane(lane, i * laneH, laneH, now);
    });
    this.frames++;
  }

  drawGrid(now) {
    const g = this.ctx;
    g.font = '13px system-ui, sans-serif';
    g.textAlign = 'center';
    g.textBaseline = 'alphabetic';
    for (let s = 0; s <= WINDOW_MS / 1000; s += 5) {
      const x = this.x(now - s * 1000, now);
      g.fillStyle = COLORS.grid;
      g.fillRect(Math.round(x), 0, 1, this.h - AXIS_H);
      g.fillStyle = COLORS.muted;
      g.fillText(s === 0 ? 'now' : `−${s} s`, x, this.h - 8);
    }
  }

  drawLane(lane, top, h, now) {
    const g = this.ctx;
    const mid = top + h / 2;
    this.k = Math.min(1, h / 66); // marks shrink with short lanes (a projector)
    if (top > 0) {
      g.fillStyle = COLORS.grid;
      g.fillRect(0, Math.round(top), this.w, 1);
    }
    g.textAlign = 'left';
    g.textBaseline = 'middle';
    g.fillStyle = lane.color;
    g.font = 'bold 17px system-ui, sans-serif';
    g.fillText(lane.label, 14, mid - 9 * this.k);
    g.fillStyle = COLORS.muted;
    g.font = '13px system-ui, sans-serif';
    g.fillText(lane.sub, 14, mid + 11 * this.k);
    g.save();
    g.beginPath();
    g.rect(LABEL_W - 4, top, this.w - LABEL_W + 4, h);
    g.clip();
    for (const s of lane.spans) this.drawSpan(lane, s, mid, now);
    for (const m of lane.marks) this.drawMark(lane, m, mid, now);
    this.drawIds(lane, mid, now);
    g.restore();
    this.drawRadio(lane, top + h - 8 * this.k - 2, 6 * this.k, now);
  }

  // The LTE band: amber while the radio wakes, the lane's colour while it is
  // connected (solid: sending or receiving, paler: the tail, which still
  // draws about 1.1 W), a hairline while it is idle.
  drawRadio(lane, y, bh, now) {
    const g = this.ctx;
    const radio = lane.radioAt(now);
    g.fillStyle = COLORS.muted;
    g.font = '11px system-ui, sans-serif';
    g.textAlign = 'left';
    g.textBaseline = 'middle';
    g.fillText(`LTE radio ≈ ${Math.round(radio.avgMw)} mW`, 14, y + bh / 2);
    radio.ranges.forEach((r, i) => {
      const x0 = Math.max(LABEL_W, this.x(r.t0 * 1000, now));
      // The last range goes on until a new packet says otherwise.
      const end = i === radio.ranges.length - 1 ? now : r.t1 * 1000;
      const x1 = Math.max(x0 + 1, this.x(Math.min(end, now), now));
      if (r.state === 'idle') {
        g.fillStyle = COLORS.grid;
        g.fillRect(x0, y + bh / 2 - 0.5, x1 - x0, 1);
        return;
      }
      g.fillStyle = r.state === 'promotion' ? COLORS.promo : lane.color;
      g.globalAlpha = r.state === 'drx_short' || r.state === 'drx_long' ? 0.55 : 1;
      g.fillRect(x0, y, x1 - x0, bh);
      g.globalAlpha = 1;
    });
  }

  // An open request or connection: a bar on the lane's centre line, ending
  // in what came back (a filled dot: messages, a ring: nothing, red: error).
  drawSpan(lane, s, mid, now) {
    const g = this.ctx;
    const x0 = this.x(s.t0, now);
    const x1 = Math.max(x0 + 3, this.x(s.t1 === null ? now : s.t1, now));
    g.globalAlpha = 0.28;
    g.fillStyle = lane.color;
    g.fillRect(x0, mid - 6, x1 - x0, 12);
    g.globalAlpha = 1;
    g.strokeStyle = lane.color;
    g.lineWidth = 1.5;
    g.strokeRect(x0 + 0.5, mid - 5.5, x1 - x0 - 1, 11);
    if (s.t1 === null || s.how === 'cut') return;
    g.beginPath();
    g.arc(x1, mid, 4.5, 0, 2 * Math.PI);
    if (s.how === 'empty') {
      g.fillStyle = COLORS.bg;
      g.fill();
      g.strokeStyle = lane.color;
      g.lineWidth = 2;
      g.stroke();
    } else {
      g.fillStyle = s.how === 'bad' ? COLORS.bad : lane.color;
      g.fill();
    }
  }

  // Server-to-client events above the centre line, client-to-server below.
  drawMark(lane, m, mid, now) {
    const g = this.ctx;
    const k = this.k;
    const x = this.x(m.t, now);
    switch (m.kind) {
      case 'msg':
        g.fillStyle = lane.color;
        g.fillRect(x - 1, mid - 22 * k, 2, 14 * k);
        triangle(g, x, mid - 8, 5 * k, 1);
        break;
      case 'up':
        g.fillStyle = COLORS.ink;
        g.fillRect(x - 1, mid + 8, 2, 15 * k);
        triangle(g, x, mid + 8, 5 * k, -1);
        break;
      case 'ctl':
      case 'ctl-up':
        g.fillStyle = COLORS.muted;
        diamond(g, x, m.kind === 'ctl' ? mid - 16 * k : mid + 16 * k, 5 * k);
        break;
      case 'bad':
        g.fillStyle = COLORS.bad;
        g.fillRect(x - 1.5, mid - 28 * k, 3, 56 * k);
        break;
      case 'off':
        g.fillStyle = COLORS.muted;
        for (let y = mid - 24 * k; y < mid + 24 * k; y += 6) g.fillRect(x - 1, y, 2, 3);
        g.font = '12px system-ui, sans-serif';
        g.textAlign = 'left';
        g.fillText('disconnected', x + 5, mid - 18 * k);
        break;
    }
  }

  // Message ids above their arrows, so one message can be followed across the
  // lanes; newest first, skipping any that would overlap the one to its right.
  drawIds(lane, mid, now) {
    const g = this.ctx;
    g.font = '11px system-ui, sans-serif';
    g.textAlign = 'center';
    g.textBaseline = 'alphabetic';
    g.fillStyle = lane.color;
    let right = Infinity;
    for (let i = lane.marks.length - 1; i >= 0; i--) {
      const m = lane.marks[i];
      if (m.kind !== 'msg' || !m.id) continue;
      const x = this.x(m.t, now);
      if (x < LABEL_W) break;
      const label = `#${m.id}`;
      const w = g.measureText(label).width;
      if (x + w / 2 + 3 > right) continue;
      g.fillText(label, x, mid - 24 * this.k);
      right = x - w / 2;
    }
  }
}

// A small arrowhead at (x, y) pointing down (dir 1) or up (dir -1).
function triangle(g, x, y, r, dir) {
  g.beginPath();
  g.moveTo(x - r, y - dir * r * 1.4);
  g.lineTo(x + r, y - dir * r * 1.4);
  g.lineTo(x, y);
  g.closePath();
  g.fill();
}

function diamond(g, x, y, r) {
  g.beginPath();
  g.moveTo(x, y - r);
  g.lineTo(x + r, y);
  g.lineTo(x, y + r);
  g.lineTo(x - r, y);
  g.closePath();
  g.fill();
}
