// The LTE radio model of common/radio.c in the page's own terms: a timeline
// of packets (time, bytes, direction) becomes the radio's states and their
// energy, per AT&T ARO's default LTE profile (Huang et al., MobiSys 2012).
// Pure: no DOM, no clock. The same hand-worked cases as tests/unit/test_radio.c
// check it (tests/web/static.test.mjs). A model, not a measurement.

/** ARO's default LTE profile: seconds, watts, watts per Mbps. */
export const LTE = Object.freeze({
  promoS: 0.26, promoW: 1.21, // idle -> connected, ending at the packet
  crTailS: 0.1, // continuous reception after the last packet, at beta
  drxShortS: 0.02, drxLongS: 10, // then short and long DRX: the tail is 10.12 s
  drxShortPeriodS: 0.02, drxLongPeriodS: 0.04,
  drxPingS: 0.002, drxPingW: 1.68, drxW: 1.06,
  idlePingS: 0.043, idlePingPeriodS: 1.28, idlePingW: 0.594, idleW: 0,
  betaW: 1.2, alphaUpW: 0.43839, alphaDownW: 0.05197,
});

export const STATES = ['idle', 'promotion', 'continuous', 'cr_tail', 'drx_short', 'drx_long'];

const tailS = (p) => p.crTailS + p.drxShortS + p.drxLongS;
const drxW = (p, period) => (p.drxPingS * p.drxPingW + (period - p.drxPingS) * p.drxW) / period;

// Idle from a to b: a ping at the start of every period, idle power after.
function idleJ(p, a, b) {
  const d = b - a;
  if (d <= 0) return 0;
  const periods = Math.floor(d / p.idlePingPeriodS);
  const rest = d - periods * p.idlePingPeriodS;
  const ping = Math.min(rest, p.idlePingS);
  const perPeriod = p.idlePingS * p.idlePingW + (p.idlePingPeriodS - p.idlePingS) * p.idleW;
  return periods * perPeriod + ping * p.idlePingW + (rest - ping) * p.idleW;
}

/**
 * Runs `packets` ([{ t, bytes, up }], seconds, in time order, none before
 * `start`) through the LTE model over [start, end]. Returns { ranges:
 * [{ state, t0, t1 }] in order, stateS: { state: seconds }, joules, avgMw,
 * promotions, connectedShare, start (moved back when the first promotion
 * began before it), duration }. Throws RangeError for packets out of order.
 */
export function lte(packets, start, end, p = LTE) {
  const r = { ranges: [], stateS: Object.fromEntries(STATES.map((s) => [s, 0])), joules: 0, promotions: 0, start };
  const add = (state, t0, t1, joules) => {
    if (t1 > t0) {
      r.ranges.push({ state, t0, t1 });
      r.stateS[state] += t1 - t0;
    }
    r.joules += joules;
  };
  const tail = (last, to) => {
    const phases = [['cr_tail', p.crTailS, p.betaW], ['drx_short', p.drxShortS, drxW(p, p.drxShortPeriodS)],
      ['drx_long', p.drxLongS, drxW(p, p.drxLongPeriodS)]];
    let at = last;
    for (const [state, len, w] of phases) {
      if (at >= to) break;
      const d = Math.min(len, to - at);
      add(state, at, at + d, d * w);
      at += d;
    }
  };
  let idleFrom = start, burstStart = start, last = start, seen = false;
  const promote = (t) => {
    let ps = t - p.promoS;
    if (!seen && ps < r.start) r.start = idleFrom = ps;
    ps = Math.max(ps, idleFrom);
    add('idle', idleFrom, ps, idleJ(p, idleFrom, ps));
    add('promotion', ps, t, (t - ps) * p.promoW);
    r.promotions++;
  };
  const burstEnd = () => add('continuous', burstStart, last, (last - burstStart) * p.betaW);
  for (const pk of packets) {
    if (!(pk.t >= last)) throw new RangeError(`packet at ${pk.t} s before ${last} s`);
    if (!seen) {
      promote(pk.t);
      burstStart = pk.t;
    } else if (pk.t - last > p.crTailS) {
      const tailEnd = last + tailS(p);
      burstEnd();
      tail(last, Math.min(pk.t, tailEnd));
      if (pk.t > tailEnd) {
        idleFrom = tailEnd;
        promote(pk.t);
      }
      burstStart = pk.t;
    }
    r.joules += ((pk.bytes || 0) * 8e-6) * (pk.up ? p.alphaUpW : p.alphaDownW);
    seen = true;
    last = pk.t;
  }
  if (!(end >= last)) throw new RangeError(`end ${end} s before the last packet`);
  if (seen) {
    const tailEnd = last + tailS(p);
    burstEnd();
    tail(last, Math.min(end, tailEnd));
    if (end > tailEnd) add('idle', tailEnd, end, idleJ(p, tailEnd, end));
  } else {
    add('idle', idleFrom, end, idleJ(p, idleFrom, end));
  }
  r.duration = end - r.start;
  r.avgMw = r.duration > 0 ? (r.joules / r.duration) * 1000 : 0;
  r.connectedShare = r.duration > 0 ? 1 - r.stateS.idle / r.duration : 0;
  return r;
}

/**
 * The states over [from, to] and the mean power there, for a band that
 * shows the last seconds: runs the model from `from` minus a tail and a
 * promotion (so the state at `from` is right) and clips to [from, to].
 * Returns { ranges, avgMw } (mW over the clipped window).
 */
export function lteWindow(packets, from, to, p = LTE) {
  const lead = tailS(p) + p.promoS + 0.5;
  const start = from - lead;
  const r = lte(packets.filter((pk) => pk.t >= start && pk.t <= to), start, to, p);
  const ranges = [];
  let joules = 0;
  const power = { promotion: p.promoW, continuous: p.betaW, cr_tail: p.betaW,
    drx_short: drxW(p, p.drxShortPeriodS), drx_long: drxW(p, p.drxLongPeriodS) };
  for (const g of r.ranges) {
    const t0 = Math.max(g.t0, from), t1 = Math.min(g.t1, to);
    if (t1 <= t0) continue;
    ranges.push({ state: g.state, t0, t1 });
    joules += g.state === 'idle' ? idleJ(p, t0, t1) : (t1 - t0) * power[g.state];
  }
  return { ranges, avgMw: to > from ? (joules / (to - from)) * 1000 : 0 };
}
