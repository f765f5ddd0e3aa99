// Straight-through regions: a forward subgraph differentiated as if it were one exact float op.
//
// The approximation rewrite replaces an exact MatMul/Gemm/Conv by an emulation subgraph
// (quantise, gather factor tables, exact GEMMs, round, dequantise …) whose pieces have no useful
// gradient. To finetune through it, the rewrite declares a region: "the value `output` is, for the
// backward pass, `exact.opType(exact.inputs…)`". Autodiff then uses the exact op's gradient rule
// for `output` and never descends into the emulation nodes (TransAxx's straight-through estimator).
//
// Regions travel with the model file as JSON under the metadata key `axx.straight_through`
// (see `withStraightThrough`), or are passed to `buildTrainingGraph` directly.
import type {Attribute, Model} from '../onnx/ir.js';
import type {TableGradient} from './table-gradient-rule.js';
import {GRADIENT_ESTIMATORS, OPERAND_LEVELS} from './table-gradient.js';

export const STRAIGHT_THROUGH_KEY = 'axx.straight_through';

export interface StraightThroughRegion {
  /** The value the emulation subgraph produces (what the exact op would have produced). */
  output: string;
  /** The exact op whose gradient is used, e.g. {opType: 'MatMul', inputs: [x, 'blocks.0.attn.qkv.weight']}. */
  exact: {opType: 'MatMul' | 'Gemm' | 'Conv'; inputs: string[]; attributes?: Attribute[]};
  /**
   * How the region is differentiated: 'exact' (default) as the exact op (straight-through), or through
   * the slopes of the multiplier's table (table-gradient.ts).
   */
  gradient?: 'exact' | TableGradient;
}

export function readStraightThrough(model: Model): StraightThroughRegion[] {
  const entry = model.metadataProps.find((p) => p.key === STRAIGHT_THROUGH_KEY);
  if (entry === undefined) return [];
  const parsed: unknown = JSON.parse(entry.value);
  if (!Array.isArray(parsed)) throw new Error(`model metadata ${STRAIGHT_THROUGH_KEY} must be a JSON array of regions`);
  for (const region of parsed as StraightThroughRegion[]) {
    if (typeof region?.output !== 'string' || !Array.isArray(region.exact?.inputs) || !['MatMul', 'Gemm', 'Conv'].includes(region.exact?.opType)) {
      throw new Error(`model metadata ${STRAIGHT_THROUGH_KEY}: bad region ${JSON.stringify(region)} (need {output, exact: {opType: MatMul|Gemm|Conv, inputs}})`);
    }
    if ((region.gradient ?? 'exact') !== 'exact' && !isTableGradient(region.gradient)) {
      throw new Error(`model metadata ${STRAIGHT_THROUGH_KEY}: region '${region.output}' has an unknown or malformed gradient (need 'exact' or {estimator, steps, slopes})`);
    }
  }
  return parsed as StraightThroughRegion[];
}

/** A copy of `model` whose metadata declares `regions` (replacing any declared before). */
export function withStraightThrough(model: Model, regions: StraightThroughRegion[]): Model {
  const metadataProps = model.metadataProps.filter((p) => p.key !== STRAIGHT_THROUGH_KEY);
  metadataProps.push({key: STRAIGHT_THROUGH_KEY, value: JSON.stringify(regions)});
  return {...model, metadataProps};
}

function isTableGradient(gradient: unknown): gradient is TableGradient {
  const g = gradient as TableGradient | undefined;
  const isFactor = (f: unknown) => Array.isArray(f) && f.length === OPERAND_LEVELS && f.every(Number.isFinite);
  return (
    typeof g === 'object' &&
    g !== null &&
    GRADIENT_ESTIMATORS.includes(g.estimator) &&
    g.estimator !== ('ste' as string) &&
    Array.isArray(g.steps) &&
    g.steps.length === 2 &&
    g.steps.every((step) => Number.isFinite(step) && step > 0) &&
    Array.isArray(g.slopes) &&
    g.slopes.length === 2 &&
    g.slopes.every((slope) => Number.isInteger(slope?.rank) && slope.rank >= 1 && [slope.own, slope.other].every((fs) => Array.isArray(fs) && fs.length === slope.rank && fs.every(isFactor)))
  );
}
