// Step kind "approximate": rewrites the selected layers of a float model into exact emulations of
// approximate multipliers (src/approx/rewrite.ts), producing a plain ONNX model, the per-layer
// manifest, and straight-through regions in the model metadata for finetuning. High-rank circuits grow
// a model manyfold (a ViT-Ti with a rank-90 circuit passes 2 GiB), so a model past SINGLE_FILE_LIMIT
// is output as a directory holding model.onnx and its weights as external data (shared/model-output.ts).
import type {CalibrationFile} from '../approx/calibration-format.js';
import {multiplierIds, resolveMultiplier} from '../approx/library.js';
import type {Manifest} from '../approx/rewrite-manifest.js';
import {DEFAULT_EXCLUDE} from '../approx/rewrite-select.js';
import {StepError, type Json, type StepKind} from '../engine/step-kind.js';
import {modelOutput, type ModelOutputOptions} from './shared/model-output.js';
import {readCalibrationParam, readModelParam} from './shared/step-inputs.js';

export interface ApproximateParams {
  model: string;
  calibration: string;
  layers?: string[];
  exclude?: string[];
  assign?: Record<string, string>;
  default?: string;
  attention: boolean;
  weights: 'tensor' | 'channel';
  weightsInGraph: boolean;
  target: 'cpu' | 'cuda';
}

const patterns = {type: 'array', items: {type: 'string', minLength: 1}};

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'calibration'],
  properties: {
    model: {type: 'string', 'x-axx-input': {type: 'path', format: 'onnx'}, description: 'The float model.'},
    calibration: {type: 'string', 'x-axx-input': {type: 'file', format: 'calibration'}, description: 'A calibrate output for this model.'},
    layers: {...patterns, description: 'Globs over node/weight names selecting layers ("blocks.*.mlp.fc1"; * within a dotted segment, ** across). Default: all.'},
    exclude: {...patterns, description: `Globs removing layers. Default ${JSON.stringify(DEFAULT_EXCLUDE)} (the classifier head, as TransAxx).`},
    assign: {type: 'object', additionalProperties: {type: 'string', minLength: 1}, 'x-axx-input': {type: 'value', format: 'assignment'}, description: 'Glob → multiplier name; the first matching glob wins. Takes a search step\'s assignment output as is.'},
    default: {type: 'string', minLength: 1, description: 'Multiplier for selected layers no assign glob matches.'},
    attention: {type: 'boolean', default: false, description: 'Also approximate the activation×activation MatMuls (attention q·kᵀ, attn·v).'},
    weights: {enum: ['tensor', 'channel'], default: 'tensor', description: 'Weight quantisation scale per tensor or per output channel.'},
    weightsInGraph: {
      type: 'boolean',
      default: false,
      description: 'Quantise and gather weights inside the graph from the float weights (scales fixed), so finetuning the float weights changes the forward pass.',
    },
    target: {
      enum: ['cpu', 'cuda'],
      default: 'cpu',
      description:
        "The onnxruntime execution provider the model is written for. cuda stores MatMulInteger operands as int8, as onnxruntime's CUDA provider has MatMulInteger for int8×int8 only (uint8 ones fall back to the CPU); the outputs are identical on either.",
    },
  },
};

function multiplierNames(p: ApproximateParams): string[] {
  return [...new Set([...(p.default ? [p.default] : []), ...Object.values(p.assign ?? {})])].sort();
}

function readCalibration(path: string): Promise<CalibrationFile> {
  return readCalibrationParam(path, 'with.calibration', 'pass the calibration output of a calibrate step run on this model');
}

export function makeApproximateKind(options: ModelOutputOptions = {}): StepKind<ApproximateParams> {
  return {
    name: 'approximate',
    version: 1,
    description: 'Replace MatMul/Gemm/Conv layers by bit-exact emulations of approximate multipliers (an ONNX rewrite) + per-layer manifest',
    schema,
    outputs: {
      model: {type: 'path', format: 'onnx', description: 'the approximate model, runnable by any ONNX runtime: one .onnx file, or past 1 GiB a directory of model.onnx + model.onnx.data'},
      manifest: {type: 'value', format: 'manifest', description: 'per layer: op, multiplier, rank, emulation path, MACs, scales, error bound (src/approx/rewrite-manifest.ts)'},
    },
    // Multipliers are named in params but defined by their tables: key on the table identities.
    keyExtras: (params) => ({multipliers: multiplierIds(multiplierNames(params))}),
    async run(ctx) {
      const p = ctx.params;
      // The rewrite and its emulations load when a step runs, not when a pipeline is planned.
      const [{approximateModel, RewriteError}, {withStraightThrough}] = await Promise.all([import('../approx/rewrite.js'), import('../train/straight-through.js')]);
      const model = await readModelParam(p.model, 'with.model');
      const calibration = await readCalibration(p.calibration);
      ctx.progress(0, 2, 'stage');
      let result: {model: typeof model; manifest: Manifest};
      try {
        result = approximateModel(model, {
          calibration,
          resolveMultiplier,
          ...(p.layers ? {layers: p.layers} : {}),
          ...(p.exclude ? {exclude: p.exclude} : {}),
          ...(p.assign ? {assign: p.assign} : {}),
          ...(p.default ? {default: p.default} : {}),
          attention: p.attention,
          weightGranularity: p.weights,
          weightsInGraph: p.weightsInGraph,
          integerOperands: p.target === 'cuda' ? 'int8' : 'uint8',
        });
      } catch (error) {
        if (!(error instanceof RewriteError)) throw error;
        const namesMultiplier = error.field === 'assign' || error.field === 'default';
        const hint = namesMultiplier ? 'list multipliers with `axx multipliers`' : 'check the layer names in the load/model info output';
        throw new StepError(error.message, hint, `with.${error.field ?? 'layers'}`, namesMultiplier ? ['multipliers'] : undefined);
      }
      ctx.progress(1, 2, 'stage');
      const regions = result.manifest.layers.map((l) => ({output: l.output, exact: l.exact}));
      const output = modelOutput(ctx.scratchDir, withStraightThrough(result.model, regions), 'model', options);
      ctx.progress(2, 2, 'stage');
      const paths = [...new Set(result.manifest.layers.map((l) => l.path))].join(', ');
      ctx.log(`approximated ${result.manifest.layers.length} layers for ${p.target} (${result.manifest.macs.approximated} of ${result.manifest.macs.total} MACs per sample; paths: ${paths})`);
      return {model: output, manifest: {value: result.manifest as unknown as Json}};
    },
  };
}

export const approximateKind = makeApproximateKind();
