// A seeded generator whose whole state is one JSON number, so a search checkpoint can carry it and a
// resumed run draws exactly the numbers an uninterrupted run would have drawn (mulberry32).

export class Rng {
  #state: number;

  constructor(seedOrState: number) {
    this.#state = seedOrState >>> 0;
  }

  /** The state to checkpoint; `new Rng(state)` continues the same sequence. */
  get state(): number {
    return this.#state;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Index drawn with probability proportional to `weights` (all >= 0, at least one > 0). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let target = this.next() * total;
    let last = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]!;
      if (w <= 0) continue;
      last = i;
      target -= w;
      if (target < 0) return i;
    }
    return last; // rounding left a sliver of `target`: the last positive weight takes it
  }
}
