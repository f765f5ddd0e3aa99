// SYNTHETIC search instances for tests and the benchmark: no network is run. Accuracy is a made-up but
// plausible function of the assignment, so that exhaustive enumeration gives the true optimum:
//
//   single-layer drop  d(l,m) = k · s_l · e_m        s_l: layer sensitivity (log-normal, larger for layers
//                                                    writing the residual stream), e_m: the circuit's MAE %
//   total drop         D = Σ d_l + κ · Σ_{l<l'} c_{ll'} · √(d_l d_l')      errors compound (non-additive)
//   accuracy           baseline − D + ε(config)      ε: fixed per configuration, like a finite test subset
//
// The sensitivity matrix handed to the search is d(l,m) measured with its own noise, as the
// `sensitivity` step would measure it. `instanceFromCells` builds the same model on measured drops.
import {Random} from '../../util/random.js';
import type {Assignment, MultiplierCandidate, PredictedDrops, SearchLayer, SearchProblem} from './types.js';

/** Signed 8-bit EvoApprox circuits: PDK45 power relative to the exact mul8s_1KV8 (0.425 mW) and MAE %. */
export const EVOAPPROX_SIGNED_SAMPLE: readonly (MultiplierCandidate & {maePercent: number})[] = [
  {name: 'mul8s_1KV8', id: 'mul8s_1KV8', relativePower: 1, exact: true, maePercent: 0},
  {name: 'mul8s_1L2H', id: 'mul8s_1L2H', relativePower: 0.301 / 0.425, maePercent: 0.081},
  {name: 'mul8s_1L2D', id: 'mul8s_1L2D', relativePower: 0.2 / 0.425, maePercent: 0.23},
  {name: 'mul8s_1L1G', id: 'mul8s_1L1G', relativePower: 0.126 / 0.425, maePercent: 0.52},
];

export interface SyntheticOptions {
  seed: number;
  /** Number of layers, taken from ViT blocks (qkv, proj, fc1, fc2, qkv, …). Default 6. */
  layerCount?: number;
  /** Accuracy of the exact model. Default 0.97. */
  baselineAccuracy?: number;
  maxAccuracyDrop?: number;
  /** κ: strength of the pairwise interaction. Default 0.5. */
  interaction?: number;
  /** Standard deviation of ε and of the sensitivity measurement noise (accuracy units). Default 0.001. */
  noise?: number;
}

export interface SyntheticInstance {
  /** Labelled: which model generated the accuracies. */
  description: string;
  problem: SearchProblem;
  /** The accuracy `problem.evaluate` returns, synchronously (for enumeration). */
  accuracyOf(assignment: Assignment): number;
  /** Number of `evaluate` calls so far. */
  readonly calls: number;
}

const BLOCK = [
  {suffix: 'attn.qkv', macs: 3, sensitivity: 0.6},
  {suffix: 'attn.proj', macs: 1, sensitivity: 1.4},
  {suffix: 'mlp.fc1', macs: 4, sensitivity: 0.8},
  {suffix: 'mlp.fc2', macs: 4, sensitivity: 1.5},
] as const;

export function syntheticInstance(options: SyntheticOptions): SyntheticInstance {
  const rng = new Random(options.seed);
  const count = options.layerCount ?? 6;
  const layers: SearchLayer[] = [];
  const drops: PredictedDrops = {};
  for (let l = 0; l < count; l++) {
    const kind = BLOCK[l % BLOCK.length]!;
    const name = `blocks.${Math.floor(l / BLOCK.length)}.${kind.suffix}`;
    layers.push({name, macs: kind.macs * 197 * 64 * 64});
    // Later blocks a little more sensitive; log-normal spread between layers of the same kind.
    const sensitivity = kind.sensitivity * (1 + 0.15 * Math.floor(l / BLOCK.length)) * Math.exp(0.6 * gaussian(rng));
    drops[name] = Object.fromEntries(EVOAPPROX_SIGNED_SAMPLE.map((m) => [m.name, 0.004 * sensitivity * m.maePercent / 0.23]));
  }
  return instanceFromCells({...options, layers, drops});
}

/** The same accuracy model on given single-layer drops (e.g. a measured sensitivity matrix). */
export function instanceFromCells(options: SyntheticOptions & {layers: readonly SearchLayer[]; drops: PredictedDrops; multipliers?: readonly MultiplierCandidate[]}): SyntheticInstance {
  const rng = new Random(options.seed ^ 0x5eed);
  const multipliers = options.multipliers ?? EVOAPPROX_SIGNED_SAMPLE.map(({maePercent: _, ...m}) => m);
  const baseline = options.baselineAccuracy ?? 0.97;
  const kappa = options.interaction ?? 0.5;
  const noise = options.noise ?? 0.001;
  const names = options.layers.map((layer) => layer.name);
  const coupling = names.map(() => names.map(() => rng.next()));
  const measured: PredictedDrops = {};
  for (const name of names) {
    measured[name] = Object.fromEntries(multipliers.map((m) => [m.name, m.exact ? 0 : Math.max(0, dropOf(options.drops, name, m.name) + noise * gaussian(rng))]));
  }
  const accuracyOf = (assignment: Assignment): number => {
    const d = names.map((name) => dropOf(options.drops, name, assignment[name]!));
    let total = 0;
    for (let i = 0; i < d.length; i++) {
      total += d[i]!;
      for (let j = i + 1; j < d.length; j++) total += kappa * coupling[i]![j]! * Math.sqrt(d[i]! * d[j]!);
    }
    const epsilon = noise * gaussian(new Random(hash(JSON.stringify(names.map((name) => assignment[name])) + options.seed)));
    return Math.min(1, Math.max(0, baseline - total + epsilon));
  };
  let calls = 0;
  return {
    description: `SYNTHETIC instance (seed ${options.seed}): ${names.length} layers × ${multipliers.length} multipliers, accuracy = ${baseline} − (Σ single-layer drops + ${kappa}·pairwise √(d·d') couplings) + noise σ=${noise}`,
    problem: {
      layers: options.layers,
      multipliers,
      baselineAccuracy: baseline,
      maxAccuracyDrop: options.maxAccuracyDrop ?? 0.01,
      sensitivity: measured,
      evaluate: async (assignment) => {
        calls++;
        return {accuracy: accuracyOf(assignment)};
      },
    },
    accuracyOf,
    get calls() {
      return calls;
    },
  };
}

function dropOf(drops: PredictedDrops, layer: string, multiplier: string): number {
  const drop = drops[layer]?.[multiplier];
  if (drop === undefined) throw new Error(`synthetic instance: no drop for ${layer} × ${multiplier}`);
  return drop;
}

function gaussian(rng: Random): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
