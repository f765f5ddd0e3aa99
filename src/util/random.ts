// Seeded pseudo-random numbers, so that model initialisation, data shuffling and search are reproducible
// from a single integer seed on every platform (Math.random cannot be seeded). The whole state is one
// number, so a checkpoint can carry it and a resumed run draws what an uninterrupted one would have.

/** mulberry32: small, fast, and good enough for initialisation and shuffling (not cryptography). */
export class Random {
  #state: number;

  constructor(seedOrState: number) {
    this.#state = seedOrState >>> 0;
  }

  /** The state to checkpoint; `new Random(state)` continues the same sequence. */
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

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Normal with standard deviation `std`, redrawn outside ±2 std, as timm's trunc_normal_(std, a=-2std, b=2std). */
  truncNormal(std: number): number {
    for (;;) {
      const z = this.normal();
      if (Math.abs(z) <= 2) return z * std;
    }
  }

  /** Integer in [0, n). */
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

  /** Fisher-Yates shuffle in place. */
  shuffle<T extends {length: number; [i: number]: unknown}>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}

export function filled(count: number, draw: () => number): Float32Array {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = draw();
  return data;
}
