// The sensitivity matrix: each approximable layer alone on each candidate multiplier, evaluated on a
// fixed subset. Cells go through the same memo store as search configurations (a cell is the
// configuration "this layer on this circuit, every other layer exact"), so search reuses them.
import {mcnemarExact, wilsonInterval, type Interval} from '../../util/statistics.js';
import {pairedAgainst} from './correctness.js';
import {SearchInputError} from './errors.js';
import {memoise, type EvaluationScope, type EvaluationStore} from './memo.js';
import {mapConcurrent} from './pool.js';
import type {EvaluationOutcome, MultiplierCandidate, PredictedDrops, SearchLayer} from './types.js';

export interface SensitivityCell {
  layer: string;
  multiplier: string;
  accuracy: number;
  /** baselineAccuracy − accuracy */
  drop: number;
  /** Smoother proxies the evaluator reported (logit KL, MSE vs the float model …). */
  metrics?: Record<string, number>;
  /** 95 % Wilson interval of `accuracy` (when the evaluator reports per-image correctness). */
  interval?: Interval;
  /** McNemar's exact test against the baseline on the same images (likewise). */
  paired?: {onlyBaselineCorrect: number; onlyCellCorrect: number; pValue: number};
}

export interface SensitivityMatrix {
  format: 'axx-sensitivity';
  version: 1;
  baselineAccuracy: number;
  layers: string[];
  multipliers: string[];
  /** Layer-major, in the order of `layers` and each layer's candidates; exact multipliers have no cell (drop 0). */
  cells: SensitivityCell[];
}

export interface SensitivityOptions {
  layers: readonly SearchLayer[];
  multipliers: readonly MultiplierCandidate[];
  baselineAccuracy: number;
  /** The baseline's per-image correctness on the `samples` images every cell is scored on: cells then carry a paired test. */
  baselineCorrect?: {correct: string; samples: number};
  /** Accuracy (and proxies) with only `layer` approximated by `multiplier`. */
  evaluateCell(layer: string, multiplier: string, signal: AbortSignal): Promise<EvaluationOutcome>;
  memo?: {store: EvaluationStore; scope: EvaluationScope};
  parallel?: number;
  signal?: AbortSignal;
  /** Called as cells finish (in completion order). */
  onProgress?(done: number, total: number, cell: SensitivityCell): void;
}

export async function measureSensitivity(options: SensitivityOptions): Promise<SensitivityMatrix & {storeHits: number}> {
  const signal = options.signal ?? new AbortController().signal;
  const byName = new Map(options.multipliers.map((m) => [m.name, m]));
  const jobs = options.layers.flatMap((layer, l) =>
    (layer.candidates ?? options.multipliers.map((m) => m.name)).flatMap((name) => {
      const multiplier = byName.get(name);
      if (multiplier === undefined) throw new SearchInputError('problem', `sensitivity: layers[${l}] (${layer.name}): unknown candidate multiplier ${name}; known: ${[...byName.keys()].join(', ')}`);
      return multiplier.exact ? [] : [{layer: layer.name, multiplier: name}];
    }),
  );
  const evaluator = memoise(
    (assignment, cellSignal) => {
      const [layer, multiplier] = Object.entries(assignment)[0]!;
      return options.evaluateCell(layer, multiplier, cellSignal);
    },
    options.memo && {...options.memo, multipliers: options.multipliers},
  );
  let done = 0;
  const cells = await mapConcurrent(jobs, Math.max(1, options.parallel ?? 1), async ({layer, multiplier}) => {
    signal.throwIfAborted();
    const outcome = await evaluator.evaluate({[layer]: multiplier}, signal);
    const cell: SensitivityCell = {layer, multiplier, accuracy: outcome.accuracy, drop: options.baselineAccuracy - outcome.accuracy};
    if (outcome.metrics !== undefined) cell.metrics = outcome.metrics;
    const baseline = options.baselineCorrect;
    if (baseline !== undefined && outcome.correct !== undefined) {
      const paired = pairedAgainst(baseline.correct, outcome.correct, baseline.samples);
      const test = mcnemarExact(paired.onlyBaselineCorrect, paired.onlyCandidateCorrect);
      cell.interval = wilsonInterval(Math.round(outcome.accuracy * baseline.samples), baseline.samples);
      cell.paired = {onlyBaselineCorrect: paired.onlyBaselineCorrect, onlyCellCorrect: paired.onlyCandidateCorrect, pValue: test.pValue};
    }
    options.onProgress?.(++done, jobs.length, cell);
    return cell;
  });
  return {
    format: 'axx-sensitivity',
    version: 1,
    baselineAccuracy: options.baselineAccuracy,
    layers: options.layers.map((layer) => layer.name),
    multipliers: options.multipliers.map((m) => m.name),
    cells,
    storeHits: evaluator.hits,
  };
}

/**
 * The matrix as the drops search expects (accuracy units). With a proxy metric, drop ≈ k · proxy is
 * fitted over the cells (least squares through 0): the proxy's smoothness with the drop's units.
 */
export function predictedDrops(matrix: SensitivityMatrix, measure = 'drop'): PredictedDrops {
  const value = (cell: SensitivityCell): number => cellValue(cell, measure);
  let scale = 1;
  if (measure !== 'drop') {
    let product = 0;
    let squared = 0;
    for (const cell of matrix.cells) {
      product += cell.drop * value(cell);
      squared += value(cell) ** 2;
    }
    scale = squared > 0 ? product / squared : 0;
  }
  const drops: PredictedDrops = {};
  for (const cell of matrix.cells) (drops[cell.layer] ??= {})[cell.multiplier] = scale * value(cell);
  return drops;
}

/** The cell's drop or one of its metrics, with a clear error when the metric was not measured. */
export function cellValue(cell: SensitivityCell, measure: string): number {
  if (measure === 'drop') return cell.drop;
  const metric = cell.metrics?.[measure];
  if (metric === undefined) {
    throw new SearchInputError('sensitivity', `sensitivity: cell ${cell.layer} × ${cell.multiplier} has no metric "${measure}"; use "drop" or one of: ${Object.keys(cell.metrics ?? {}).join(', ') || '(none)'}`);
  }
  return metric;
}
