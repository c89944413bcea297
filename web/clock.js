// The page's view of the server's clock, so a message's server `ts` can be
// turned into a delivery latency on the page. The offset is estimated the way
// NTP does it: a request sent at t0 and answered at t1 was stamped by the
// server somewhere in between, so offset ≈ ts - (t0 + t1) / 2, within ±(t1 - t0) / 2.

/** Milliseconds since the epoch, with sub-millisecond resolution. */
export function pageNow() {
  return performance.timeOrigin + performance.now();
}

export class ServerClock {
  constructor() {
    this.offsetMs = 0; // server clock minus page clock
    this.errorMs = Infinity; // half the round trip of the best sample
    this.samples = 0;
    this.listeners = [];
  }

  /**
   * Feeds one round trip: `t0` and `t1` page times (ms) around a publish whose
   * stored message carries server time `tsUs` (µs). The sample with the
   * shortest round trip wins: its bound on the error is the tightest.
   */
  sample(t0, t1, tsUs) {
    this.samples++;
    const half = (t1 - t0) / 2;
    if (half < this.errorMs) {
      this.errorMs = half;
      this.offsetMs = tsUs / 1000 - (t0 + t1) / 2;
    }
    for (const fn of this.listeners) fn(this);
  }

  /** Latency in ms of a message stamped `tsUs` on the server, received now. */
  latencyMs(tsUs, receivedAt = pageNow()) {
    return receivedAt - (tsUs / 1000 - this.offsetMs);
  }

  onChange(fn) {
    this.listeners.push(fn);
  }

  describe() {
    if (!Number.isFinite(this.errorMs))
      return 'clock offset: not measured yet, assuming the server shares this clock';
    const sign = this.offsetMs >= 0 ? '+' : '−';
    return `clock offset: server ${sign}${Math.abs(this.offsetMs).toFixed(2)} ms ` +
      `± ${this.errorMs.toFixed(2)} ms against this page, from the quickest of ` +
      `${this.samples} publish round trips (the page's probes into room pushlab-clock, then your own ` +
      `publishes): the server's ts against the midpoint of request and response`;
  }
}
