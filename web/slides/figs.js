// Puts the committed figures (figures.js, written by scripts/figures.py)
// into the slides and the handout: every element with data-fig="a.b.c" gets
// that value as text, every data-bars a bar per transport. Text only, never
// markup: the figures are data.
import { FIGURES } from './figures.js';

export const TRANSPORTS = [
  { key: 'short_poll', name: 'short polling', color: '#2563eb' },
  { key: 'long_poll', name: 'long polling', color: '#d97706' },
  { key: 'sse', name: 'Server-Sent Events', color: '#059669' },
  { key: 'ws', name: 'WebSocket', color: '#7c3aed' },
];

/** Figures computed from the measured ones (arithmetic, no new data). */
function derived(f) {
  const w = f.wire;
  return {
    poll_hour_kib: Math.round((f.per_poll_bytes * 1200) / 1024),
    poll_day_mb: ((f.per_poll_bytes * 28800) / 1e6).toFixed(1),
    sse_ping_hour_b: w.sse_ping * 240,
    ws_ping_hour_b: (w.ws_app_ping_in + w.ws_app_pong_out) * 240,
    ws_page_ping_hour_b: (w.ws_json_ping_in + w.ws_json_pong_out) * 240,
  };
}

const ALL = { ...FIGURES, derived: derived(FIGURES) };

/** The value at a dotted path, or undefined. */
export function figure(path) {
  return path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), ALL);
}

function show(v) {
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : String(Number(v.toPrecision(3)));
}

/** Fills every [data-fig] and [data-bars] under root. */
export function fill(root) {
  for (const el of root.querySelectorAll('[data-fig]')) {
    const v = figure(el.dataset.fig);
    el.textContent = v === undefined ? '?' : show(v) + (el.dataset.unit || '');
    if (v === undefined) el.classList.add('missing');
  }
  for (const el of root.querySelectorAll('[data-bars]')) bars(el, el.dataset.bars, el.dataset.unit || '');
}

// One row per transport: name, a bar scaled to the largest, the value.
function bars(el, key, unit) {
  el.replaceChildren();
  const vals = TRANSPORTS.map((t) => FIGURES.bench.transports[t.key][key]);
  const max = Math.max(...vals);
  TRANSPORTS.forEach((t, i) => {
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = t.name;
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.background = t.color;
    bar.style.width = `${Math.max(0.5, (100 * vals[i]) / max)}%`;
    const val = document.createElement('span');
    val.className = 'val';
    val.textContent = show(vals[i]) + unit;
    el.append(name, bar, val);
  });
}
