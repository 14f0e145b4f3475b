/**
 * The distinct numbers of a per-row (`row` source) column in one row group,
 * in the order met, and each row's index among them: an open-addressing
 * hash on the values' 64 bits (so -0 and 0 stay apart), in typed arrays, so
 * a row costs a compare with the row before and, when it differs, a probe,
 * with nothing allocated per row.
 */

const DOUBLE = new Float64Array(1);
const WORDS = new Int32Array(DOUBLE.buffer);

export class ValueDictionary {
  private list = new Float64Array(1024);
  private low = new Int32Array(1024);
  private high = new Int32Array(1024);
  /** dictionary index + 1 per hash slot (0: empty) */
  private slots = new Int32Array(2048);
  private size = 0;
  private lastLow = 0;
  private lastHigh = 0;
  private lastIndex = -1;

  /** The distinct values met since clear(), in the order met. */
  values(): Float64Array {
    return this.list.subarray(0, this.size);
  }

  clear(): void {
    this.size = 0;
    this.slots.fill(0);
    this.lastIndex = -1;
  }

  /** out[to + k] = the index of values[from + k], for k < count. */
  indexAll(
    values: Float64Array | Int32Array,
    from: number,
    count: number,
    out: Int32Array,
    to: number,
  ): void {
    for (let k = from, o = to; k < from + count; k++, o++) {
      DOUBLE[0] = values[k];
      const low = WORDS[0];
      const high = WORDS[1];
      if (
        this.lastIndex >= 0 &&
        low === this.lastLow &&
        high === this.lastHigh
      ) {
        out[o] = this.lastIndex;
        continue;
      }
      const index = this.indexOf(low, high, values[k]);
      this.lastLow = low;
      this.lastHigh = high;
      this.lastIndex = index;
      out[o] = index;
    }
  }

  /** The index of one value (added when new). */
  index(value: number): number {
    DOUBLE[0] = value;
    return this.indexOf(WORDS[0], WORDS[1], value);
  }

  private indexOf(low: number, high: number, value: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    let slot = hash(low, high) & mask;
    for (;;) {
      const entry = slots[slot];
      if (entry === 0) break;
      const index = entry - 1;
      if (this.low[index] === low && this.high[index] === high) return index;
      slot = (slot + 1) & mask;
    }
    const index = this.size++;
    if (index === this.list.length) this.growList();
    this.list[index] = value;
    this.low[index] = low;
    this.high[index] = high;
    slots[slot] = index + 1;
    if (this.size * 2 > slots.length) this.rehash(slots.length * 2);
    return index;
  }

  private growList(): void {
    const grow = <T extends Float64Array | Int32Array>(
      old: T,
      make: (n: number) => T,
    ): T => {
      const next = make(old.length * 2);
      next.set(old);
      return next;
    };
    this.list = grow(this.list, n => new Float64Array(n));
    this.low = grow(this.low, n => new Int32Array(n));
    this.high = grow(this.high, n => new Int32Array(n));
  }

  private rehash(capacity: number): void {
    const slots = new Int32Array(capacity);
    const mask = capacity - 1;
    for (let index = 0; index < this.size; index++) {
      let slot = hash(this.low[index], this.high[index]) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = index + 1;
    }
    this.slots = slots;
  }
}

function hash(low: number, high: number): number {
  let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
