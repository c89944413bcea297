// The slides' pictures: the demo page's own timeline (../timeline.js),
// drawing a scripted 30 seconds of each transport at the page's real pace
// (short poll every 2 s, long-poll timeout 25 s, WebSocket ping every 15 s),
// with its LTE radio band under each lane. Fixed, so every screen and
// screenshot shows the same picture.
import { Timeline } from '../timeline.js';
import { TRANSPORTS } from './figs.js';

const LANE_SUB = { short_poll: 'fetch every 2 s', long_poll: 'held until news', sse: 'one endless response', ws: 'frames both ways' };

// A script is a list of lanes; each lane has spans [t0, t1|null, how] and
// marks [t, kind, id], in seconds before "now" (30 = the left edge).
const poll = (every, from = 29.5, msgs = []) => {
  const spans = [];
  const marks = [];
  for (let t = from; t > 0; t -= every) {
    // A message published in the last interval arrives with this poll.
    const got = msgs.filter((m) => m < t + every && m >= t);
    spans.push([t, t - 0.08, got.length ? 'msg' : 'empty']);
    marks.push([t, 'up']);
    got.forEach((m) => marks.push([t - 0.08, 'msg', msgs.indexOf(m) + 1]));
  }
  return { spans, marks };
};

const SCRIPTS = {
  why: () => [
    { key: 'short_poll', label: 'Short polling', sub: 'fetch every 3 s', ...poll(3) },
    { key: 'ws', label: 'WebSocket', sub: 'ping every 5 s', spans: [[31, null]],
      marks: [25, 20, 15, 10, 5].flatMap((t) => [[t, 'ctl-up'], [t - 0.05, 'ctl']]) },
  ],
  short: () => [{ key: 'short_poll', ...poll(2, 29.5, [24.3, 13.1, 12.8, 4.2]) }],
  long: () => [{
    key: 'long_poll',
    spans: [[30.5, 26.0, 'msg'], [26.0, 17.4, 'msg'], [17.4, null, 'open']],
    marks: [[30.5, 'up'], [26.0, 'msg', 7], [26.0, 'up'], [17.4, 'msg', 8], [17.4, 'up']],
  }, {
    key: 'long_poll', label: 'Long polling', sub: 'quiet: 25 s timeout',
    spans: [[28.0, 3.0, 'empty'], [3.0, null, 'open']], marks: [[28.0, 'up'], [3.0, 'up']],
  }],
  sse: () => [{
    key: 'sse',
    spans: [[31, 16.0, 'cut'], [13.5, null, 'open']],
    marks: [[24.0, 'msg', 5], [19.0, 'msg', 6], [16.0, 'off'], [13.5, 'up'], [13.45, 'msg', 7], [13.4, 'msg', 8], [5.0, 'msg', 9]],
  }],
  ws: () => [{
    key: 'ws',
    spans: [[31, null]],
    marks: [[26.0, 'up'], [25.98, 'msg', 11], [20.0, 'ctl-up'], [19.98, 'ctl'], [12.0, 'msg', 12], [5.0, 'ctl-up'], [4.98, 'ctl'], [2.5, 'up'], [2.48, 'msg', 13]],
  }],
  buffered: () => {
    const sent = [27, 24.5, 21, 18, 14.5, 11, 8, 5, 2];
    return [
      { key: 'sse', sub: 'through a buffering proxy', spans: [[31, null]],
        marks: [[19.5, 'msg', 1], [19.45, 'msg', 2], [19.4, 'msg', 3], [9.2, 'msg', 4], [9.15, 'msg', 5], [9.1, 'msg', 6]] },
      { key: 'ws', sub: 'same proxy, upgraded', spans: [[31, null]], marks: sent.map((t, i) => [t - 0.02, 'msg', i + 1]) },
    ];
  },
};

/** Draws the picture a canvas names in data-script; redraws on resize. */
export function picture(canvas) {
  const script = SCRIPTS[canvas.dataset.script];
  if (!script) return;
  const tl = new Timeline(canvas);
  // A clock of the picture's own, two minutes in: the radio band under each
  // lane (timeline.js) is worked out from the scripted events alone.
  const now = 120000;
  for (const lane of script()) {
    const t = TRANSPORTS.find((x) => x.key === lane.key);
    const l = tl.addLane(lane.key, lane.label || t.name.replace(/^./, (c) => c.toUpperCase()), lane.sub || LANE_SUB[lane.key], t.color);
    for (const [a, b, how] of lane.spans) l.spans.push({ t0: now - a * 1000, t1: b === null || how === 'open' ? null : now - b * 1000, how: how || null });
    for (const [at, kind, id] of lane.marks) l.marks.push({ t: now - at * 1000, kind, id: id || 0 });
  }
  const draw = () => {
    tl.resize();
    tl.draw(now);
  };
  new ResizeObserver(draw).observe(canvas);
  draw();
}
