// report.html's logic: read a pushlab-bench JSON document, check its shape,
// and fill the summary table and the charts (latency, bytes, requests, and
// the phones' radio when the run sampled them). Text from the file only
// ever reaches the page through textContent.
'use strict';

(function () {
  const NAMES = { short_poll: 'short polling', long_poll: 'long polling', sse: 'SSE', ws: 'WebSocket' };
  const $ = (s) => document.querySelector(s);

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

  function table(results) {
    const us = (v) => (typeof v === 'number' ? PlCharts.fmtUs(v) : 'n/a');
    const body = $('#summary tbody');
    body.replaceChildren();
    for (const r of results) {
      const tr = document.createElement('tr');
      tr.dataset.transport = r.transport;
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

  function legend(results) {
    const ul = $('#cdf-legend');
    ul.replaceChildren();
    for (const r of results) {
      const li = document.createElement('li');
      const sw = document.createElement('i');
      sw.className = 'sw';
      sw.style.background = PlCharts.COLORS[r.transport] || '#1f2937';
      sw.style.height = '4px';
      li.append(sw, document.createTextNode(`${NAMES[r.transport] || r.transport} (p50 ${PlCharts.fmtUs(r.latency_us.p50)})`));
      ul.append(li);
    }
  }

  function draw(doc, source) {
    check(doc);
    const results = doc.results;
    $('#error').textContent = '';
    $('#source').textContent = `${source}: ${results.length} transports`;
    params(doc);
    legend(results);
    table(results);
    const series = [];
    for (const r of results) {
      if (r.histogram_intended) series.push({ key: r.transport, buckets: r.histogram_intended.buckets, dashed: true });
      if (r.histogram) series.push({ key: r.transport, buckets: r.histogram.buckets });
    }
    PlCharts.cdf($('#cdf'), series);
    const group = (r, a, b) => ({ key: r.transport, label: NAMES[r.transport] || r.transport, values: [r[a], r[b]] });
    const pair = [{ alpha: 1 }, { alpha: 0.4 }];
    PlCharts.bars($('#bytes'), results.map((r) => group(r, 'bytes_in_per_msg', 'bytes_out_per_msg')), pair, 'bytes per message');
    PlCharts.bars($('#requests'), results.map((r) => group(r, 'http_requests_per_msg', 'tcp_connections_per_msg')), pair, 'per message');
    radio(doc);
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

  function load(text, source) {
    try {
      draw(JSON.parse(text), source);
    } catch (err) {
      fail(err);
    }
  }

  $('#file').addEventListener('change', (e) => {
    const f = e.target.files[0];
    if (f) f.text().then((t) => load(t, f.name), fail);
  });

  const src = new URLSearchParams(location.search).get('src');
  if (src) {
    fetch(src, { cache: 'no-store' })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`${src}: HTTP ${r.status}`))))
      .then((t) => load(t, src), fail);
  }
})();
