// The hardware-driven rollout policy: favour cheap circuits where a layer holds many MACs and is
// insensitive. For layer l and candidate i, given the drop the configuration has already committed:
//
//   gain(l,i)   = MACshare_l · (1 − P_i)  /  max over all (l,i)       (power this choice saves, in [0,1])
//   excess(l,i) = max(0, committed + drop(l,i) − threshold) / threshold  (how far it would overrun the budget)
//   w(l,i)      = exp(α · gain(l,i) − β · excess(l,i))
//
// drop(l,i) is the sensitivity matrix's single-layer drop times a scale γ, summed along the
// configuration. Errors of approximate layers compound, so the plain sum underestimates real drops;
// γ is refitted from the evaluated configurations (least squares, real drop ≈ γ · Σ single-layer
// drops), which moves rollouts onto the real feasibility boundary as the search learns. Without a
// matrix, excess is 0 and the policy only knows the hardware side.
import type {LedgerEntry} from './ledger.js';
import type {SearchSpace} from './space.js';

export interface PolicyParams {
  /** α: preference for power saved. */
  powerWeight: number;
  /** β: aversion to overrunning the accuracy budget (needs a sensitivity matrix). */
  riskWeight: number;
}

export const DEFAULT_POLICY: PolicyParams = {powerWeight: 3, riskWeight: 15};

export class RolloutPolicy {
  readonly #space: SearchSpace;
  readonly #params: PolicyParams;
  readonly #gain: number[][];
  #dropScale = 1;

  constructor(space: SearchSpace, params: PolicyParams) {
    this.#space = space;
    this.#params = params;
    const raw = space.candidates.map((list, l) => list.map((m) => space.macShare[l]! * (1 - m.relativePower)));
    const scale = Math.max(...raw.flat());
    this.#gain = raw.map((row) => row.map((g) => (scale > 0 ? g / scale : 0)));
  }

  /** Predicted drop of candidate i on layer l (0 without a sensitivity matrix). */
  drop(layer: number, candidate: number): number {
    return this.#dropScale * (this.#space.drops?.[layer]?.[candidate] ?? 0);
  }

  get dropScale(): number {
    return this.#dropScale;
  }

  /** Refits γ from evaluated configurations; stays 1 until some have a non-zero prediction. */
  calibrate(entries: readonly LedgerEntry[]): void {
    const drops = this.#space.drops;
    if (drops === undefined) return;
    let predictedSquared = 0;
    let product = 0;
    for (const {config, outcome} of entries) {
      const predicted = config.reduce((sum, candidate, layer) => sum + drops[layer]![candidate]!, 0);
      predictedSquared += predicted * predicted;
      product += predicted * (this.#space.problem.baselineAccuracy - outcome.accuracy);
    }
    if (predictedSquared > 0) this.#dropScale = Math.min(4, Math.max(0.25, product / predictedSquared));
  }

  weights(layer: number, committedDrop: number): number[] {
    const threshold = this.#space.problem.maxAccuracyDrop;
    const {powerWeight, riskWeight} = this.#params;
    return this.#gain[layer]!.map((gain, i) => {
      const overrun = committedDrop + this.drop(layer, i) - threshold;
      const excess = this.#space.drops === undefined || overrun <= 0 ? 0 : threshold > 0 ? overrun / threshold : Infinity;
      return Math.exp(powerWeight * gain - riskWeight * Math.min(excess, 50));
    });
  }
}
