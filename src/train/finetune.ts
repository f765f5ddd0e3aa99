// Approximate-aware finetuning (TransAxx): the float weights are trained through a model whose
// approximated layers compute, in the forward pass, the bit-exact emulation of their multipliers
// (quantising the float weights with ops, scales frozen) and, in the backward pass, the gradient of
// the exact float op (straight-through regions). Afterwards the trained float model is rewritten
// again with the same frozen scales, giving a compact approximate model.
import type {CalibrationFile} from '../approx/calibration-format.js';
import {HISTOGRAM_BINS} from '../approx/calibration.js';
import {approximateModel, type MultiplierTable} from '../approx/rewrite.js';
import {operandTable} from '../approx/emulate/operand-table.js';
import type {IntegerOperands} from '../approx/emulate/emit-layer.js';
import type {Manifest, ManifestLayer, ScaleRecord} from '../approx/rewrite-manifest.js';
import {globToRegExp, type SelectionOptions} from '../approx/rewrite-select.js';
import type {Model} from '../onnx/ir.js';
import type {LabeledImages} from './labeled-images.js';
import {train, type EpochRecord, type TrainCheckpoint, type TrainConfig, type TrainHooks} from './loop.js';
import type {StraightThroughRegion} from './straight-through.js';
import {tableSlopes, type GradientEstimator, type OperandSlope, type TableEstimator, type TableSlopes} from './table-gradient.js';
import {defaultTrainable} from './training-graph.js';
import {TrainingSession} from './training-session.js';

/** Which layers carry which multiplier, in the approximate rewrite's terms. */
export interface FinetuneSelection extends SelectionOptions {
  /** Also approximate the attention products (they have no weights; their operands' gradients pass straight through). */
  attention?: boolean;
  /** How the re-emitted model's MatMulInteger stores operands (the approximate model's target); training itself runs uint8 on the CPU. */
  integerOperands?: IntegerOperands;
}

export interface FinetuneTarget {
  /** The float model whose weights are trained. */
  float: Model;
  /** Its calibration; the weight and activation scales taken from it stay fixed throughout. */
  calibration: CalibrationFile;
  selection: FinetuneSelection;
  resolveMultiplier: (name: string) => MultiplierTable;
  /** How the approximate layers are differentiated; default: straight-through ('ste') everywhere. */
  gradient?: GradientChoice;
}

/** The gradient estimator of each approximated layer (table-gradient.ts). */
export interface GradientChoice {
  estimator: GradientEstimator;
  /** Half-width of the table's central difference, in quanta. */
  window: number;
  /** Rank terms kept of a 2-D slope (high-rank tables are truncated). */
  maxRank: number;
  /** Per-layer overrides: the first glob (over layer node names, as `approximate` takes them) that matches wins. */
  layers?: readonly {pattern: string; estimator: GradientEstimator}[];
}

export class FinetuneError extends Error {
  constructor(
    message: string,
    /** The input at fault: "manifest", "calibration", "model" or "gradientLayers". */
    readonly field: 'manifest' | 'calibration' | 'model' | 'gradientLayers',
  ) {
    super(message);
    this.name = 'FinetuneError';
  }
}

/**
 * The selection that reproduces an approximate model from its manifest: every manifest layer by its
 * exact node name, with the multiplier it had. Node names are used as glob patterns; names with
 * glob characters would be ambiguous, so they are refused.
 */
export function selectionFromManifest(manifest: Manifest): FinetuneSelection {
  if (manifest?.format !== 'axx-manifest' || !Array.isArray(manifest.layers)) {
    throw new FinetuneError('not an approximate manifest (expected {format: "axx-manifest", layers: [...]})', 'manifest');
  }
  if (manifest.layers.length === 0) throw new FinetuneError('the manifest lists no approximated layers: there is nothing approximate to finetune', 'manifest');
  const channel = manifest.layers.find((l) => l.scales.second.granularity === 'channel');
  if (channel) {
    throw new FinetuneError(
      `layer "${channel.node}" has per-channel weight scales, which finetuning cannot keep frozen through the re-emission; approximate with weights: tensor`,
      'manifest',
    );
  }
  const assign: Record<string, string> = {};
  for (const layer of manifest.layers) {
    if (/[*?]/.test(layer.node)) throw new FinetuneError(`layer node name "${layer.node}" contains glob characters and cannot be selected exactly`, 'manifest');
    assign[layer.node] = layer.multiplier.name;
  }
  return {layers: Object.keys(assign), exclude: [], assign, attention: manifest.layers.some((l) => l.kind === 'activations'), integerOperands: manifest.integerOperands ?? 'uint8'};
}

/**
 * `calibration` with the scales of `manifest` written over it, so that a rewrite of trained weights
 * reuses exactly those scales (a weight absent from the calibration would otherwise be re-measured).
 */
export function freezeScales(calibration: CalibrationFile, manifest: Manifest): CalibrationFile {
  const values = {...calibration.values};
  const pin = (record: ScaleRecord, role: 'activation' | 'weight') => {
    const amax = record.amax[0];
    if (amax === undefined || record.granularity !== 'tensor') throw new FinetuneError(`manifest scale of "${record.value}" is not one per-tensor amax`, 'manifest');
    const known = values[record.value] ?? {role, max: amax, amax, histogram: {range: amax, counts: new Array<number>(HISTOGRAM_BINS).fill(0)}, operandCounts: new Array<number>(256).fill(0)};
    values[record.value] = {...known, amax};
  };
  for (const layer of manifest.layers) {
    pin(layer.scales.first, 'activation');
    pin(layer.scales.second, layer.kind === 'weight' ? 'weight' : 'activation');
  }
  return {...calibration, values};
}

function rewrite(target: FinetuneTarget, float: Model, weightsInGraph: boolean, integerOperands: IntegerOperands = 'uint8'): {model: Model; manifest: Manifest} {
  return approximateModel(float, {
    ...target.selection,
    calibration: target.calibration,
    resolveMultiplier: target.resolveMultiplier,
    weightGranularity: 'tensor',
    weightsInGraph,
    integerOperands,
  });
}

export interface TrainableApproximate {
  /** The approximate model whose emulation reads the float weight initializers (weightsInGraph). */
  model: Model;
  manifest: Manifest;
  /** Backward rule of each emulated layer: its exact float op. */
  regions: StraightThroughRegion[];
  /** Trains exactly the float model's own weights, never the emulation's tables. */
  trainable: (tensor: Model['graph']['initializers'][number]) => boolean;
}

export function trainableApproximate(target: FinetuneTarget): TrainableApproximate {
  const {model, manifest} = rewrite(target, target.float, true);
  const floatWeights = new Set(target.float.graph.initializers.map((t) => t.name));
  const slopes = slopesOf(target);
  const estimatorOf = estimatorsByLayer(target.gradient, manifest);
  return {
    model,
    manifest,
    regions: manifest.layers.map((layer) => regionOf(layer, estimatorOf(layer.node), target.gradient, slopes)),
    trainable: (t) => floatWeights.has(t.name) && defaultTrainable(t),
  };
}

/** The table slopes of each multiplier by name, computed once per finetuning. */
function slopesOf(target: FinetuneTarget): (layer: ManifestLayer, estimator: TableEstimator) => TableSlopes {
  const memo = new Map<string, TableSlopes>();
  return (layer, estimator) => {
    const key = `${layer.multiplier.name}/${estimator}`;
    let slopes = memo.get(key);
    if (slopes === undefined) {
      const multiplier = target.resolveMultiplier(layer.multiplier.name);
      const {window, maxRank} = target.gradient!;
      slopes = tableSlopes(operandTable(multiplier.table, multiplier.signed), {estimator, window, maxRank});
      memo.set(key, slopes);
    }
    return slopes;
  };
}

/** Each layer's estimator; a per-layer glob that matches no approximated layer is an error listing them. */
function estimatorsByLayer(choice: GradientChoice | undefined, manifest: Manifest): (node: string) => GradientEstimator {
  const overrides = (choice?.layers ?? []).map((o) => ({...o, re: globToRegExp(o.pattern)}));
  const nodes = manifest.layers.map((l) => l.node);
  const unmatched = overrides.filter((o) => !nodes.some((node) => o.re.test(node)));
  if (unmatched.length > 0) {
    throw new FinetuneError(`gradient layer pattern ${unmatched.map((o) => `"${o.pattern}"`).join(', ')} matches no approximated layer; the layers are: ${nodes.join(', ')}`, 'gradientLayers');
  }
  return (node) => overrides.find((o) => o.re.test(node))?.estimator ?? choice?.estimator ?? 'ste';
}

function regionOf(layer: ManifestLayer, estimator: GradientEstimator, choice: GradientChoice | undefined, slopes: ReturnType<typeof slopesOf>): StraightThroughRegion {
  const region: StraightThroughRegion = {output: layer.output, exact: layer.exact};
  if (estimator === 'ste' || choice === undefined) return region;
  const {first, second} = layer.scales;
  if (first.value !== layer.exact.inputs[0] || second.value !== layer.exact.inputs[1] || first.step.length !== 1 || second.step.length !== 1) {
    throw new FinetuneError(`layer "${layer.node}": table gradients need one per-tensor scale for each of the op's two operands`, 'manifest');
  }
  const {row, column} = slopes(layer, estimator);
  // Exact input 0 is the table's row operand unless the weight is (Conv, as TransAxx indexes its tables).
  const inputSlopes: [OperandSlope, OperandSlope] = layer.tableRow === 'first' ? [row, column] : [column, row];
  return {...region, gradient: {estimator, steps: [first.step[0]!, second.step[0]!], slopes: inputSlopes}};
}

/** `float` with the initializers `trained` holds under the same names (the trained weights). */
export function withTrainedWeights(float: Model, trained: Model): Model {
  const byName = new Map(trained.graph.initializers.map((t) => [t.name, t]));
  const initializers = float.graph.initializers.map((t) => byName.get(t.name) ?? t);
  return {...float, graph: {...float.graph, initializers}};
}

/** The compact approximate model of trained float weights, with the target's (frozen) scales. */
export function reemitApproximate(target: FinetuneTarget, trainedFloat: Model): {model: Model; manifest: Manifest} {
  return rewrite(target, trainedFloat, false, target.selection.integerOperands);
}

export interface FinetuneOptions {
  threads?: number;
  /** Loop hooks (progress, metrics, checkpoint saving, evaluation of the approximate model, abort). */
  hooks?: Omit<TrainHooks, 'resumeFrom'>;
  /** The checkpoint to continue from, decoded for the session's parameters (see decodeCheckpoint). */
  resume?: (session: TrainingSession) => TrainCheckpoint | undefined;
}

export interface FinetuneResult {
  /** The compact approximate model of the trained weights (scales as before finetuning). */
  approximate: {model: Model; manifest: Manifest};
  /** The float model with the trained weights. */
  float: Model;
  history: EpochRecord[];
}

/** Trains `target.float`'s weights through the approximate forward pass and re-emits the approximate model. */
export async function finetune(target: FinetuneTarget, data: LabeledImages, config: TrainConfig, options: FinetuneOptions = {}): Promise<FinetuneResult> {
  const trainable = trainableApproximate(target);
  using session = await TrainingSession.create(trainable.model, {
    imageShape: data.imageShape,
    ...(options.threads ? {threads: options.threads} : {}),
    trainable: trainable.trainable,
    straightThrough: trainable.regions,
  });
  const resumeFrom = options.resume?.(session);
  const history = await train(session, data, config, {...options.hooks, ...(resumeFrom ? {resumeFrom} : {})});
  const float = withTrainedWeights(target.float, session.trainedModel());
  const frozen = {...target, calibration: freezeScales(target.calibration, trainable.manifest)};
  return {approximate: reemitApproximate(frozen, float), float, history};
}
