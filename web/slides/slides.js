// The deck: one slide at a time, scaled to the window; keyboard navigation,
// the slide number in the URL (#3), and a speaker view (?view=speaker: this
// slide, the next, the notes, a clock) that follows the deck window and is
// followed by it through a BroadcastChannel, with no server involved.
import { fill } from './figs.js';
import { picture } from './pictures.js';

const W = 1280;
const H = 720;
const speaker = new URLSearchParams(location.search).get('view') === 'speaker';
const deck = document.getElementById('deck');
const slides = [...deck.querySelectorAll('.slide')];
const channel = 'BroadcastChannel' in window ? new BroadcastChannel('pushlab-slides') : null;
let current = -1;
const started = Date.now();

function render(el) {
  fill(el);
  for (const c of el.querySelectorAll('canvas.timeline')) picture(c);
}

function fromHash() {
  const n = parseInt(location.hash.slice(1), 10);
  return Number.isInteger(n) ? Math.min(Math.max(n, 1), slides.length) - 1 : 0;
}

function go(i, tell = true) {
  i = Math.min(Math.max(i, 0), slides.length - 1);
  if (i === current) return;
  current = i;
  if (location.hash !== `#${i + 1}`) history.replaceState(null, '', `#${i + 1}`);
  if (speaker) showSpeaker();
  else showDeck();
  document.body.dataset.slide = String(i + 1);
  if (tell && channel) channel.postMessage({ slide: i });
}

function showDeck() {
  slides.forEach((s, i) => s.classList.toggle('current', i === current));
  document.getElementById('progress').style.width = `${(100 * (current + 1)) / slides.length}%`;
  document.getElementById('counter').textContent = `${current + 1} / ${slides.length}`;
  document.title = `pushlab slides: ${slides[current].dataset.title}`;
  scale();
}

function scale() {
  const k = Math.min(innerWidth / W, innerHeight / H);
  for (const s of slides) s.style.setProperty('--scale', k);
}

// Speaker view: a copy of this slide and the next, scaled into their boxes.
function showSpeaker() {
  const now = document.getElementById('now');
  const next = document.getElementById('next');
  const put = (box, i) => {
    box.replaceChildren();
    if (i >= slides.length) return;
    const copy = slides[i].cloneNode(true);
    copy.classList.add('current');
    copy.style.setProperty('--scale', 1);
    copy.style.transform = `scale(${box.clientWidth / W})`;
    box.style.height = `${(box.clientWidth / W) * H}px`;
    box.append(copy);
    render(copy);
  };
  put(now, current);
  put(next, current + 1);
  const notes = document.getElementById('notes');
  notes.replaceChildren(...[...slides[current].querySelectorAll('.notes > *')].map((n) => n.cloneNode(true)));
  document.getElementById('where').textContent = `slide ${current + 1} / ${slides.length}: ${slides[current].dataset.title}`;
}

function buildSpeaker() {
  document.body.classList.add('speaker');
  const el = (tag, id, text) => {
    const e = document.createElement(tag);
    if (id) e.id = id;
    if (text) e.textContent = text;
    return e;
  };
  const side = el('div', 'side');
  side.append(el('div', null, 'next'), el('div', 'next'), el('div', 'clock', '0:00'), el('div', 'where'));
  const main = el('div');
  main.append(el('div', 'now'));
  const notesBox = el('div');
  notesBox.append(el('div', null, 'notes'), el('div', 'notes'));
  for (const l of [side.firstChild, notesBox.firstChild]) l.className = 'label';
  deck.replaceChildren(main, side, notesBox);
  notesBox.style.gridColumn = '1 / 3';
  setInterval(() => {
    const s = Math.floor((Date.now() - started) / 1000);
    document.getElementById('clock').textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }, 1000);
}

function onKey(e) {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  const k = e.key;
  if (['ArrowRight', 'PageDown', ' ', 'Enter', 'n'].includes(k)) go(current + 1);
  else if (['ArrowLeft', 'PageUp', 'Backspace', 'p'].includes(k)) go(current - 1);
  else if (k === 'Home') go(0);
  else if (k === 'End') go(slides.length - 1);
  else if (k === 's' && !speaker) window.open(`?view=speaker#${current + 1}`, 'pushlab-speaker');
  else if (k === 'f' && document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
  else if (k === '?') document.getElementById('help').hidden = !document.getElementById('help').hidden;
  else return;
  e.preventDefault();
}

function main() {
  if (speaker) buildSpeaker();
  else slides.forEach(render);
  addEventListener('keydown', onKey);
  addEventListener('resize', () => (speaker ? showSpeaker() : scale()));
  addEventListener('hashchange', () => go(fromHash()));
  if (channel) channel.onmessage = (e) => go(e.data.slide, false);
  go(fromHash());
  document.body.dataset.ready = '1';
}

main();
