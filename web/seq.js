// Checks a subscriber's stream of ids against the protocol's promise that a
// room's ids are 1, 2, 3, ... with no holes: a jump is a gap (messages
// missed), an id at or below the last one is a duplicate. No DOM here, so
// node tests it directly.

export class Sequence {
  /** `lastId`: the id the subscription starts after (0 for the beginning). */
  constructor(lastId = 0) {
    this.lastId = lastId;
    this.gaps = 0; // gap events
    this.missing = 0; // ids skipped in all gaps
    this.dups = 0;
  }

  /**
   * Accounts for one delivered id. Returns { kind: 'ok' }, { kind: 'dup' }
   * or { kind: 'gap', from, to } (the inclusive range of ids that never came;
   * the message itself is still accepted).
   */
  accept(id) {
    if (!Number.isSafeInteger(id) || id <= this.lastId) {
      this.dups++;
      return { kind: 'dup' };
    }
    const expected = this.lastId + 1;
    this.lastId = id;
    if (id === expected) return { kind: 'ok' };
    this.gaps++;
    this.missing += id - expected;
    return { kind: 'gap', from: expected, to: id - 1 };
  }
}

/** The last `cap` latencies, for the median a panel shows. */
export class Window {
  constructor(cap = 1000) {
    this.cap = cap;
    this.values = [];
  }

  add(v) {
    if (this.values.length >= this.cap) this.values.shift();
    this.values.push(v);
  }

  /** The median, or NaN when empty. */
  median() {
    const n = this.values.length;
    if (!n) return NaN;
    const s = [...this.values].sort((a, b) => a - b);
    return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}
