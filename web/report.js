// report.html's logic: read one or more pushlab-bench JSON documents (two
// targets, or before and after a change), check their shape, and fill the
// summary table and the charts side by side (latency, bytes, requests, and
// the phones' radio when a run sampled them). A run is one target of one
// file, lettered A, B, ...; with several, each run's curves have a dash
// pattern of their own and its rows and bars carry its letter. Text from
// a file only ever reaches the page through textContent.
'use strict';

(function () {
  const NAMES = { short_poll: 'short polling', long_poll: 'long polling', sse: 'SSE', ws: 'WebSocket' };
  const $ = (s) => document.querySelector(s);
  // Bar labels when several runs share a chart, so they fit under narrow groups.
  const SHORT = { short_poll: 'SP', long_poll: 'LP', sse: 'SSE', ws: 'WS' };
  const DASHES = [[], [10, 4], [2, 3], [12, 3, 2, 3], [6, 6], [1, 2]];

  // Throws with a readable reason when `doc` is not a bench document.
  function check(doc) {
    if (!doc || doc.pushlab_bench !== 1) throw new Error('not a pushlab_bench version 1 document');
    if (!Array.isArray(doc.results)) throw new Error('pushlab_bench document without a results list');
    for (const r of doc.results) {
      if (typeof r.transport !== 'string' || !r.latency_us) throw new Error('a result lacks transport or latency_us');
    }
  }

  function cell(tr, text) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
    return td;
  }

  function num(v, digits) {
    return typeof v === 'number' ? v.toFixed(digits) : 'n/a';
  }

  function table(rows, several) {
    const us = (v) => (typeof v === 'number' ? PlCharts.fmtUs(v) : 'n/a');
    const body = $('#summary tbody');
    body.replaceChildren();
    $('#summary thead th.run').hidden = !several;
    for (const { run, r } of rows) {
      const tr = document.createElement('tr');
      tr.dataset.transport = r.transport;
      tr.dataset.run = run.letter;
      cell(tr, `${run.letter}: ${run.target}`).hidden = !several;
      const name = cell(tr, NAMES[r.transport] || r.transport);
      name.style.color = PlCharts.COLORS[r.transport] || '';
      cell(tr, `${r.delivered} / ${r.expected}`);
      cell(tr, String(r.lost)).classList.toggle('bad', r.lost > 0);
      cell(tr, String(r.duplicated)).classList.toggle('bad', r.duplicated > 0);
      const l = r.latency_us;
      [l.p50, l.p90, l.p99, l.p999, l.max].forEach((v) => cell(tr, us(v)));
      cell(tr, us(r.latency_intended_us && r.latency_intended_us.p99));
      cell(tr, num(r.http_requests_per_msg, 3));
      cell(tr, num(r.tcp_connections_per_msg, 4));
      cell(tr, num(r.bytes_in_per_msg, 1));
      cell(tr, num(r.bytes_out_per_msg, 1));
      cell(tr, num(r.server_cpu_ms_per_1000, 2));
      body.append(tr);
    }
  }

  function params(doc) {
    const dl = $('#params');
    dl.replaceChildren();
    const p = doc.params || {};
    const add = (k, v) => {
      if (v === undefined || v === null) return;
      const d = document.createElement('div');
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = k;
      dd.textContent = Array.isArray(v) ? v.join(', ') : String(v);
      d.append(dt, dd);
      dl.append(d);
    };
    ['subscribers', 'rate', 'duration_s', 'size', 'rooms', 'poll_interval_ms', 'publish_over', 'url'].forEach((k) => add(k, p[k]));
    const env = doc.env || {};
    Object.keys(env).slice(0, 8).forEach((k) => typeof env[k] !== 'object' && add(k, env[k]));
  }

  function legend(rows, several) {
    const ul = $('#cdf-legend');
    ul.replaceChildren();
    for (const { run, r } of rows) {
      const li = document.createElement('li');
      const sw = document.createElement('i');
      sw.className = 'sw';
      const color = PlCharts.COLORS[r.transport] || '#1f2937';
      // The run's dash pattern, drawn as the swatch's stripes.
      const [on, off] = DASHES[run.index % DASHES.length];
      sw.style.background = on ? `repeating-linear-gradient(90deg, ${color} 0 ${on}px, transparent ${on}px ${on + off}px)` : color;
      sw.style.height = '4px';
      const who = several ? `${run.letter} ${run.target} ` : '';
      li.append(sw, document.createTextNode(`${who}${NAMES[r.transport] || r.transport} (p50 ${PlCharts.fmtUs(r.latency_us.p50)})`));
      ul.append(li);
    }
  }

  // The runs of the documents: one per target of each file, lettered.
  function runsOf(docs) {
    const rows = [];
    const runs = [];
    for (const { doc, source } of docs) {
      const byTarget = new Map();
      for (const r of doc.results) {
        const target = typeof r.target === 'string' ? r.target : 'pushlab';
        if (!byTarget.has(target)) {
          const index = runs.length;
          const run = { index, letter: String.fromCharCode(65 + (index % 26)), target, source };
          byTarget.set(target, run);
          runs.push(run);
        }
        rows.push({ run: byTarget.get(target), r });
      }
    }
    return { rows, runs };
  }

  function sources(runs, several) {
    const ul = $('#runs');
    ul.replaceChildren();
    ul.hidden = !several;
    for (const run of runs) {
      const li = document.createElement('li');
      li.textContent = `${run.letter}: ${run.target}, ${run.source}`;
      ul.append(li);
    }
  }

  function draw(docs) {
    docs.forEach(({ doc }) => check(doc));
    const { rows, runs } = runsOf(docs);
    const several = runs.length > 1;
    $('#error').textContent = '';
    $('#source').textContent = docs.length === 1
      ? `${docs[0].source}: ${rows.length} transports`
      : `${docs.length} files, ${runs.length} runs, ${rows.length} results`;
    sources(runs, several);
    params(docs[0].doc);
    legend(rows, several);
    table(rows, several);
    const series = [];
    for (const { run, r } of rows) {
      const dash = DASHES[run.index % DASHES.length];
      // With several runs the scheduled-time curves would double the lines.
      if (r.histogram_intended && !several) series.push({ key: r.transport, buckets: r.histogram_intended.buckets, dashed: true });
      if (r.histogram) series.push({ key: r.transport, buckets: r.histogram.buckets, dash: several ? dash : null });
    }
    PlCharts.cdf($('#cdf'), series);
    const label = (run, r) => (several ? `${run.letter} ${SHORT[r.transport] || r.transport}` : NAMES[r.transport] || r.transport);
    const group = ({ run, r }, a, b) => ({ key: r.transport, label: label(run, r), values: [r[a], r[b]] });
    const pair = [{ alpha: 1 }, { alpha: 0.4 }];
    PlCharts.bars($('#bytes'), rows.map((x) => group(x, 'bytes_in_per_msg', 'bytes_out_per_msg')), pair, 'bytes per message');
    PlCharts.bars($('#requests'), rows.map((x) => group(x, 'http_requests_per_msg', 'tcp_connections_per_msg')), pair, 'per message');
    PlCharts.bars($('#server'), rows.map((x) => ({ key: x.r.transport, label: label(x.run, x.r), values: [x.r.server_cpu_ms_per_1000] })),
      [{ alpha: 1 }], 'server CPU ms per 1000 deliveries');
    radio(docs[0].doc);
    document.body.dataset.drawn = '1';
  }

  // The `radio` figures (docs/bench-json.md), when the run sampled phones.
  function radio(doc) {
    const withRadio = doc.results.filter((r) => r.radio && r.radio.lte && r.radio['3g']);
    $('#radio').hidden = withRadio.length === 0;
    if (!withRadio.length) return;
    const label = (r) => NAMES[r.transport] || r.transport;
    const g = (r, values) => ({ key: r.transport, label: label(r), values });
    PlCharts.bars($('#radio-power'), withRadio.map((r) => g(r, [r.radio.lte.avg_mw, r.radio['3g'].avg_mw])),
      [{ alpha: 1 }, { alpha: 0.4 }], 'mean radio power, mW');
    const pct = (v) => (typeof v === 'number' ? 100 * v : null);
    PlCharts.bars($('#radio-on'), withRadio.map((r) => g(r, [pct(r.radio.lte.connected_share),
      pct(r.radio['3g'].dch_share), pct(r.radio['3g'].fach_share)])),
    [{ alpha: 1 }, { alpha: 0.6 }, { alpha: 0.3 }], '% of the time', { max: 100, steps: 4 });
    const p = doc.params || {};
    const every = p.rate > 0 ? `one message every ${+(1 / p.rate).toPrecision(3)} s` : 'no messages';
    $('#radio-note').textContent = `${withRadio[0].radio.devices} phones per transport, ` +
      `${every}, ${Math.round(withRadio[0].radio.window_s)} s each; short polling every ` +
      `${p.poll_interval_ms / 1000} s; heartbeat ${p.heartbeat_s ? `${p.heartbeat_s} s` : "the server's"}.`;
  }

  function fail(err) {
    document.body.dataset.drawn = '0';
    $('#error').textContent = `cannot show this file: ${err.message}`;
  }

  // texts: [{ text, source }], in the order given.
  function load(texts) {
    try {
      draw(texts.map(({ text, source }) => {
        try {
          return { doc: JSON.parse(text), source };
        } catch (err) {
          throw new Error(`${source}: ${err.message}`);
        }
      }).map(({ doc, source }) => {
        try {
          check(doc);
        } catch (err) {
          throw new Error(`${source}: ${err.message}`);
        }
        return { doc, source };
      }));
    } catch (err) {
      fail(err);
    }
  }

  $('#file').addEventListener('change', (e) => {
    const files = [...e.target.files];
    if (files.length) Promise.all(files.map((f) => f.text().then((text) => ({ text, source: f.name })))).then(load, fail);
  });

  // ?src=A.json&src=B.json: several runs side by side.
  const srcs = new URLSearchParams(location.search).getAll('src');
  if (srcs.length) {
    Promise.all(srcs.map((src) => fetch(src, { cache: 'no-store' })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`${src}: HTTP ${r.status}`))))
      .then((text) => ({ text, source: src })))).then(load, fail);
  }
})();
