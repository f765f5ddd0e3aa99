// Seeded pseudo-random numbers, so that model initialisation and data shuffling are reproducible
// from a single integer seed on every platform (Math.random cannot be seeded).

/** mulberry32: small, fast, and good enough for initialisation and shuffling (not cryptography). */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
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
