// The distinct configurations a search has asked for, in order. The budget counts entries here, not
// calls to `evaluate`: a configuration found in the memo store still costs one unit, so a search's
// course never depends on what earlier runs left in the store (and resume stays exact).
import type {MemoisedEvaluator} from './memo.js';
import {mapConcurrent} from './pool.js';
import {configId, type Config, type SearchSpace} from './space.js';
import type {EvaluatedPoint, EvaluationOutcome} from './types.js';

export interface LedgerEntry {
  config: number[];
  outcome: EvaluationOutcome;
}

export class EvaluationLedger {
  readonly #space: SearchSpace;
  readonly #evaluator: MemoisedEvaluator;
  readonly #parallel: number;
  readonly #signal: AbortSignal;
  readonly #entries: LedgerEntry[] = [];
  readonly #points = new Map<string, EvaluatedPoint>();

  constructor(space: SearchSpace, evaluator: MemoisedEvaluator, parallel: number, signal: AbortSignal) {
    this.#space = space;
    this.#evaluator = evaluator;
    this.#parallel = parallel;
    this.#signal = signal;
  }

  get count(): number {
    return this.#entries.length;
  }

  get points(): EvaluatedPoint[] {
    return this.#entries.map((entry) => this.#points.get(configId(entry.config))!);
  }

  get(config: Config): EvaluatedPoint | undefined {
    return this.#points.get(configId(config));
  }

  /**
   * Evaluates the configurations not seen yet, up to `parallel` at a time, and records them in the
   * order given, so the ledger is the same whatever the parallelism. Nothing is recorded unless the
   * whole batch completes: an abort leaves the ledger at the previous batch boundary.
   */
  async evaluate(configs: readonly Config[]): Promise<EvaluatedPoint[]> {
    const fresh = new Map<string, Config>();
    for (const config of configs) {
      const id = configId(config);
      if (!this.#points.has(id) && !fresh.has(id)) fresh.set(id, config);
    }
    const outcomes = await mapConcurrent([...fresh.values()], this.#parallel, (config) => {
      this.#signal.throwIfAborted();
      return this.#evaluator.evaluate(this.#space.toAssignment(config), this.#signal);
    });
    this.#signal.throwIfAborted();
    [...fresh.values()].forEach((config, i) => this.#record({config: [...config], outcome: outcomes[i]!}));
    return configs.map((config) => this.get(config)!);
  }

  toJSON(): LedgerEntry[] {
    return this.#entries;
  }

  restore(entries: readonly LedgerEntry[]): void {
    for (const entry of entries) this.#record(entry);
  }

  #record(entry: LedgerEntry): void {
    const {problem} = this.#space;
    const drop = problem.baselineAccuracy - entry.outcome.accuracy;
    const point: EvaluatedPoint = {
      assignment: this.#space.toAssignment(entry.config),
      accuracy: entry.outcome.accuracy,
      drop,
      relativePower: this.#space.relativePower(entry.config),
      feasible: drop <= problem.maxAccuracyDrop,
      order: this.#entries.length + 1,
    };
    if (entry.outcome.metrics !== undefined) point.metrics = entry.outcome.metrics;
    this.#entries.push(entry);
    this.#points.set(configId(entry.config), point);
  }
}
