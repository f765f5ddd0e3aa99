// The manifest of an approximate model (step output format "manifest"): one entry per emulated
// layer, saying what was replaced, by which multiplier, how (path, rank, error bound), with which
// quantisation scales, and which nodes/initializers form its emulation subgraph.
//
// For finetuning: every node of one layer's emulation is named `<prefix>…` with
// prefix = `<original node name>.axx.`; `output` is the value the emulation produces (the original
// op's output name, unchanged), and `exact` is the float op it stands for — the original node's
// type, inputs (including the float weight initializer, kept in the model) and attributes. Autodiff
// treats the subgraph straight-through as `exact` (see train/straight-through.ts; the approximate
// step also writes these regions into the model's metadata). For the forward pass to follow trained
// weights, rewrite with `weightsInGraph` (the step's `weightsInGraph: true`): the emulation then
// quantises and gathers the float weight initializer with ops, using the frozen `scales`; after
// training, rewriting the updated float model with the same calibration re-emits a compact model.
import type {Attribute} from '../onnx/ir.js';
import type {ApproximableOp} from './emulate/approximable.js';
import type {IntegerOperands} from './emulate/emit-layer.js';
import type {EmulationPath} from './emulate/plan.js';

export const MANIFEST_FORMAT = 'axx-manifest';

/**
 * Model metadata naming how the model's MatMulInteger ops store their operands (IntegerOperands), so a
 * runner can tell, without decoding the graph, whether onnxruntime's CUDA provider runs them.
 */
export const INTEGER_OPERANDS_METADATA_KEY = 'axx.integer_operands';

export interface ScaleRecord {
  /** Value or initializer name quantised with this scale. */
  value: string;
  /** Clipping magnitude(s): one per tensor, or one per output channel. */
  amax: number[];
  /** fp32 step(s) of one quantum: amax/127. */
  step: number[];
  granularity: 'tensor' | 'channel';
}

export interface ManifestLayer {
  node: string;
  op: ApproximableOp;
  kind: 'weight' | 'activations';
  /** The original op's output, now produced by the emulation subgraph. */
  output: string;
  exact: {opType: ApproximableOp; inputs: string[]; attributes: Attribute[]};
  /** Float weight initializer (kind 'weight'). */
  weight?: string;
  multiplier: {name: string; id: string; signed: boolean; operands: 'two-complement' | 'sign-magnitude wrapper'};
  path: EmulationPath;
  rank: number;
  groups: {rank: number; divisor: number}[];
  /**
   * Integer paths whose shifted operands drop a power of two c (activation factor c·floor(q/2^s)):
   * the exact accumulator is accumulatorScale × the MatMulInteger/ConvInteger result (c is folded
   * into the dequantisation factor). Absent = 1.
   */
  accumulatorScale?: number;
  /** Products summed per output (reduction length). */
  k: number;
  macs: number | null;
  /** Worst-case |accumulator error| before rounding; 0 for exact fp32 integer paths. */
  errorBound: number;
  /** First operand (activation), second operand (weight, or second activation). */
  scales: {first: ScaleRecord; second: ScaleRecord};
  /** Which operand is the table's row operand a in L[a][b]: the activation for MatMul/Gemm, the weight for Conv (TransAxx). */
  tableRow: 'first' | 'second';
  emulation: {prefix: string; nodes: string[]; initializers: string[]};
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  /** How MatMulInteger stores its operands (ConvInteger: always uint8); absent in manifests written before it was a choice: uint8. */
  integerOperands?: IntegerOperands;
  layers: ManifestLayer[];
  macs: {total: number; approximated: number};
}
