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

export const STRAIGHT_THROUGH_KEY = 'axx.straight_through';

export interface StraightThroughRegion {
  /** The value the emulation subgraph produces (what the exact op would have produced). */
  output: string;
  /** The exact op whose gradient is used, e.g. {opType: 'MatMul', inputs: [x, 'blocks.0.attn.qkv.weight']}. */
  exact: {opType: 'MatMul' | 'Gemm' | 'Conv'; inputs: string[]; attributes?: Attribute[]};
  /**
   * How the region is differentiated. Only 'exact' (straight-through) exists; a gradient derived
   * from the multiplier's table (∂L/∂a from finite differences of L along a) would be a new variant.
   */
  gradient?: 'exact';
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
    if ((region.gradient ?? 'exact') !== 'exact') throw new Error(`model metadata ${STRAIGHT_THROUGH_KEY}: unknown gradient '${region.gradient}'`);
  }
  return parsed as StraightThroughRegion[];
}

/** A copy of `model` whose metadata declares `regions` (replacing any declared before). */
export function withStraightThrough(model: Model, regions: StraightThroughRegion[]): Model {
  const metadataProps = model.metadataProps.filter((p) => p.key !== STRAIGHT_THROUGH_KEY);
  metadataProps.push({key: STRAIGHT_THROUGH_KEY, value: JSON.stringify(regions)});
  return {...model, metadataProps};
}
