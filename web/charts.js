// Two small canvas charts for report.html: a cumulative distribution on a
// log axis and grouped bars with their values written on them. A classic
// script (not a module) so the report also opens straight from disk.
'use strict';

(function () {
  // The demo page's transport colours (web/app.js), repeated here because a
  // classic script cannot import a module.
  const COLORS = { short_poll: '#2563eb', long_poll: '#d97706', sse: '#059669', ws: '#7c3aed' };
  const INK = '#1f2937';
  const MUTED = '#6b7280';
  const GRID = '#e5e7eb';
  const FONT = '13px system-ui, sans-serif';
  const PAD = { l: 64, r: 18, t: 16, b: 44 };

  // Sizes the backing store to the element's CSS size times the pixel ratio.
  function setup(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    const g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.font = FONT;
    return { g, w, h, pw: w - PAD.l - PAD.r, ph: h - PAD.t - PAD.b };
  }

  function fmtUs(us) {
    if (us < 1000) return `${+us.toPrecision(3)} µs`;
    if (us < 1e6) return `${+(us / 1000).toPrecision(3)} ms`;
    return `${+(us / 1e6).toPrecision(3)} s`;
  }

  function fmtNum(v) {
    if (Math.abs(v) >= 100) return v.toFixed(0);
    return String(+v.toPrecision(3));
  }

  // Round axis maxima (times a power of ten) and how many grid steps each
  // splits into evenly.
  const NICE = [[1, 5], [2, 4], [2.5, 5], [3, 3], [4, 4], [5, 5], [6, 3], [8, 4], [10, 5]];

  // The smallest round maximum at or above `v`: { max, steps }.
  function niceAxis(v) {
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    const [m, steps] = NICE.find(([m]) => m * p >= v);
    return { max: m * p, steps };
  }

  // Points of the CDF from histogram buckets [[upper_us, count], ...]:
  // the fraction of deliveries at or below each bucket's upper bound.
  function cdfPoints(buckets) {
    const total = buckets.reduce((s, b) => s + b[1], 0);
    let seen = 0;
    return buckets.map(([up, n]) => [Math.max(1, up), (seen += n) / total]);
  }

  /**
   * Latency CDF per transport on a log-x axis. `series`: [{ key, label,
   * buckets, dashed, dash }] (`dash`: a line-dash pattern of its own, to
   * tell runs apart). Returns the number of curves drawn.
   */
  function cdf(canvas, series) {
    const { g, w, h, pw, ph } = setup(canvas);
    const curves = series.filter((s) => s.buckets && s.buckets.length).map((s) => ({ ...s, pts: cdfPoints(s.buckets) }));
    if (!curves.length) return 0;
    const xs = curves.flatMap((c) => c.pts.map((p) => p[0]));
    const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...xs))));
    const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...xs))));
    const X = (us) => PAD.l + (pw * Math.log10(us / lo)) / Math.log10(hi / lo);
    const Y = (f) => PAD.t + ph * (1 - f);
    g.textAlign = 'center';
    for (let d = lo; d <= hi; d *= 10) {
      g.fillStyle = GRID;
      g.fillRect(Math.round(X(d)), PAD.t, 1, ph);
      g.fillStyle = MUTED;
      g.fillText(fmtUs(d), X(d), h - PAD.b + 18);
    }
    g.fillText('delivery latency (log scale)', PAD.l + pw / 2, h - 6);
    g.textAlign = 'right';
    for (const f of [0, 0.25, 0.5, 0.75, 0.9, 1]) {
      g.fillStyle = GRID;
      g.fillRect(PAD.l, Math.round(Y(f)), pw, 1);
      g.fillStyle = MUTED;
      g.fillText(`${+(f * 100).toFixed(0)} %`, PAD.l - 8, Y(f) + 4);
    }
    for (const c of curves) {
      g.strokeStyle = COLORS[c.key] || INK;
      g.lineWidth = c.dashed ? 1.5 : 2.5;
      g.setLineDash(c.dash || (c.dashed ? [6, 4] : []));
      g.beginPath();
      g.moveTo(X(c.pts[0][0]), Y(0));
      // A step per bucket: the curve only rises at a bucket's upper bound.
      let prev = 0;
      for (const [x, f] of c.pts) {
        g.lineTo(X(x), Y(prev));
        g.lineTo(X(x), Y(f));
        prev = f;
      }
      g.stroke();
    }
    g.setLineDash([]);
    return curves.length;
  }

  /**
   * Grouped bars: one group per transport, one bar per measure. `groups`:
   * [{ key, label, values: [number|null] }]; `measures`: [{ label, alpha }].
   * Each bar carries its value, so small ones stay readable on a linear axis.
   * `axis` ({ max, steps }) fixes the scale, e.g. 0 to 100 for shares.
   */
  function bars(canvas, groups, measures, unit, axis) {
    const { g, w, h, pw, ph } = setup(canvas);
    const all = groups.flatMap((gr) => gr.values).filter((v) => typeof v === 'number');
    const { max, steps } = axis || niceAxis(Math.max(...all, 1e-9) * 1.12);
    const Y = (v) => PAD.t + ph * (1 - v / max);
    const gw = pw / groups.length;
    const bw = Math.min(56, (gw * 0.7) / measures.length);
    g.textAlign = 'right';
    for (let i = 0; i <= steps; i++) {
      const v = (max / steps) * i;
      g.fillStyle = GRID;
      g.fillRect(PAD.l, Math.round(Y(v)), pw, 1);
      g.fillStyle = MUTED;
      g.fillText(fmtNum(v), PAD.l - 8, Y(v) + 4);
    }
    g.textAlign = 'center';
    let drawn = 0;
    groups.forEach((gr, i) => {
      const x0 = PAD.l + gw * i + (gw - bw * measures.length) / 2;
      gr.values.forEach((v, j) => {
        const x = x0 + j * bw;
        if (typeof v !== 'number') {
          g.fillStyle = MUTED;
          g.fillText('n/a', x + bw / 2, Y(0) - 6);
          return;
        }
        g.globalAlpha = measures[j].alpha;
        g.fillStyle = COLORS[gr.key] || INK;
        g.fillRect(x + 2, Y(v), bw - 4, Y(0) - Y(v));
        g.globalAlpha = 1;
        g.fillStyle = INK;
        g.fillText(fmtNum(v), x + bw / 2, Y(v) - 5);
        drawn++;
      });
      g.fillStyle = COLORS[gr.key] || INK;
      g.font = `bold ${FONT}`;
      g.fillText(gr.label, PAD.l + gw * i + gw / 2, h - PAD.b + 20);
      g.font = FONT;
    });
    g.fillStyle = MUTED;
    g.fillText(unit, PAD.l + pw / 2, h - 6);
    return drawn;
  }

  window.PlCharts = { COLORS, cdf, bars, fmtUs, fmtNum };
})();
