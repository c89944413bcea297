// Fills the handout's figures from figures.js (text only).
import { fill, figure } from './figs.js';

const ms = (v) => (v >= 10 ? `${Math.round(v)} ms` : `${v.toFixed(1)} ms`);

function cells() {
  const t = (k) => figure(`bench.transports.${k}`);
  for (const td of document.querySelectorAll('[data-lat]')) td.textContent = `${ms(t(td.dataset.lat).p50_ms)} / ${ms(t(td.dataset.lat).p99_ms)}`;
  for (const td of document.querySelectorAll('[data-per]')) td.textContent = `${Math.round(t(td.dataset.per).bytes_in_per_msg)} B`;
  for (const td of document.querySelectorAll('[data-req]')) td.textContent = String(t(td.dataset.req).requests_per_msg);
  const sp = document.querySelector('[data-lat="short_poll"]');
  sp.textContent += ` (1 s interval; 3 s: p50 ${ms(figure('bench.short_poll_3000.p50_ms'))})`;
}

fill(document);
cells();
document.body.dataset.ready = '1';
