/**
 * A latency histogram with logarithmic buckets (four per octave, about 19%
 * wide), from 1 µs to about 70 s. Recording is a few arithmetic operations and
 * no allocation, so it can sit on the per-job path while stats are observed.
 */

const BUCKETS = 104;
const SUB = 4;

/**
 * Percentiles of one latency in a sampling window, in milliseconds. The
 * histogram buckets are about 19% wide (four per octave, 1 µs to about 70 s),
 * so a percentile is accurate to that; all are 0 when `count` is 0.
 *
 * @category Queue and stats
 */
export interface Percentiles {
  /** Samples in the window. */
  readonly count: number;
  /** Milliseconds (upper edge of the bucket the percentile falls in). */
  readonly p50: number;
  /** 90th percentile, milliseconds (upper edge of its bucket). */
  readonly p90: number;
  /** 99th percentile, milliseconds (upper edge of its bucket). */
  readonly p99: number;
  /** The largest sample, milliseconds (exact, not bucketed). */
  readonly max: number;
}

export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #count = 0;
  #max = 0;

  /** Record one latency in milliseconds. */
  record(ms: number): void {
    const us = ms * 1000;
    let b = us < 1 ? 0 : Math.floor(Math.log2(us) * SUB) + 1;
    if (b >= BUCKETS) b = BUCKETS - 1;
    this.#counts[b]!++;
    this.#count++;
    if (ms > this.#max) this.#max = ms;
  }

  get count(): number {
    return this.#count;
  }

  /** Add another histogram's samples to this one. */
  add(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.#counts[i]! += other.#counts[i]!;
    this.#count += other.#count;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  percentiles(): Percentiles {
    return {
      count: this.#count,
      p50: this.#quantile(0.5),
      p90: this.#quantile(0.9),
      p99: this.#quantile(0.99),
      max: this.#max,
    };
  }

  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#max = 0;
  }

  #quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.ceil(q * this.#count);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.#counts[b]!;
      if (seen >= rank) return Math.min(this.#max, upperEdgeMs(b));
    }
    return this.#max;
  }
}

function upperEdgeMs(bucket: number): number {
  return bucket === 0 ? 0.001 : 2 ** (bucket / SUB) / 1000;
}
