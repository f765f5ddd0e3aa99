// Resource tokens (cpu: 2 …) against a machine budget, so CPU-heavy steps do not oversubscribe the
// machine however high -j is. Requests above the budget are clamped: such a step runs alone.
export class ResourcePool {
  readonly #free: Map<string, number>;
  readonly #waiting: {need: Record<string, number>; grant: () => void}[] = [];

  constructor(readonly budget: Readonly<Record<string, number>>) {
    this.#free = new Map(Object.entries(budget));
  }

  /** Clamps a request to the budget; kinds not in the budget are unlimited. */
  fit(request: Readonly<Record<string, number>>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, amount] of Object.entries(request)) out[name] = name in this.budget ? Math.min(amount, this.budget[name]!) : amount;
    return out;
  }

  acquire(need: Record<string, number>, signal?: AbortSignal): Promise<void> {
    if (this.#waiting.length === 0 && this.#available(need)) {
      this.#take(need);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const entry = {need, grant: () => resolve()};
      this.#waiting.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.#waiting.indexOf(entry);
          if (i >= 0) {
            this.#waiting.splice(i, 1);
            reject(signal.reason);
          }
        },
        {once: true},
      );
    });
  }

  release(need: Record<string, number>): void {
    for (const [name, amount] of Object.entries(need)) if (this.#free.has(name)) this.#free.set(name, this.#free.get(name)! + amount);
    // First come, first served: a big request at the head is not starved by small ones behind it.
    while (this.#waiting.length > 0 && this.#available(this.#waiting[0]!.need)) {
      const next = this.#waiting.shift()!;
      this.#take(next.need);
      next.grant();
    }
  }

  #available(need: Record<string, number>): boolean {
    return Object.entries(need).every(([name, amount]) => !this.#free.has(name) || this.#free.get(name)! >= amount);
  }

  #take(need: Record<string, number>): void {
    for (const [name, amount] of Object.entries(need)) if (this.#free.has(name)) this.#free.set(name, this.#free.get(name)! - amount);
  }
}
