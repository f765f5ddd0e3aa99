// Step kind "calibrate": runs the float model on a few batches of a seeded, stratified subset of the
// dataset and records, for every operand of every MatMul/Gemm/Conv, the statistics quantisation needs
// (max, 2048-bin |x| histogram, chosen amax) and the histogram of quantised operand bytes (for search
// and power models). The amax conventions are in docs/quantisation.md.
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {CALIBRATION_METHODS, CalibrationError, DEFAULT_PERCENTILE, type CalibrationMethod} from '../approx/calibration.js';
import {DataError} from '../data/data-error.js';
import {openDataset, type Dataset} from '../data/dataset-reader.js';
import {datasetSubset} from '../data/dataset-subset.js';
import {missingClassesWarning} from '../data/subset.js';
import {StepError, type StepKind} from '../engine/step-kind.js';
import {subsetOptions, subsetParamSchema, type SubsetParams} from './shared/subset-params.js';
import {executionKey} from './shared/execution-key.js';
import {readModelParam} from './shared/step-inputs.js';

export interface CalibrateParams extends Omit<SubsetParams, 'limit'> {
  model: string;
  dataset: string;
  batches: number;
  batchSize: number;
  percentile: number;
  method: CalibrationMethod;
}

// limit is batches × batchSize; the rest of the subset parameters as every step takes them.
const {limit: _limit, ...calibrationSubsetSchema} = subsetParamSchema();

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'dataset'],
  properties: {
    model: {type: 'string', 'x-axx-input': {type: 'path', format: 'onnx'}, description: 'The float model (a load/model or train output).'},
    dataset: {type: 'string', 'x-axx-input': {type: 'dir', format: 'dataset'}, description: 'Calibration images (a load/dataset output); batches × batchSize of them are chosen as order says.'},
    batches: {type: 'integer', minimum: 1, default: 8, description: 'Number of batches to run.'},
    ...calibrationSubsetSchema,
    batchSize: {type: 'integer', minimum: 1, default: 64},
    percentile: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 100,
      default: DEFAULT_PERCENTILE,
      description: 'Percentile of |x| used as amax (method "percentile"): the upper edge of the histogram bin where it is reached (docs/quantisation.md).',
    },
    method: {enum: [...CALIBRATION_METHODS], default: 'percentile', description: 'How amax is chosen from the histogram.'},
  },
};

function openCalibrationSet(dir: string): Dataset {
  try {
    return openDataset(dir);
  } catch (error) {
    if (error instanceof DataError) throw new StepError(error.message, error.hint ?? 'pass the dir output of a load/dataset step', 'with.dataset');
    throw error;
  }
}

export const calibrateKind: StepKind<CalibrateParams> = {
  name: 'calibrate',
  version: 2,
  description: 'Per-operand quantisation statistics of the approximable layers (max, |x| histogram, amax, quantised-operand histograms)',
  schema,
  outputs: {
    calibration: {type: 'file', format: 'calibration', description: 'calibration JSON (src/approx/calibration-format.ts), plus the subset of samples it saw'},
  },
  resources: {cpu: 1},
  keyExtras: () => ({execution: executionKey()}),
  async run(ctx) {
    const p = ctx.params;
    // onnxruntime loads when a step runs, not when a pipeline is planned.
    const [{runCalibration}, {createSession}] = await Promise.all([import('../approx/calibration-run.js'), import('../onnx/session.js')]);
    const model = await readModelParam(p.model, 'with.model');
    const {dataset, record} = datasetSubset(openCalibrationSet(p.dataset), subsetOptions({...p, limit: p.batches * p.batchSize}));
    const subsetWarning = missingClassesWarning(record, dataset.manifest.classes);
    if (subsetWarning !== undefined) ctx.log(`warning: ${subsetWarning}`, 'stderr');
    let calibration;
    try {
      calibration = await runCalibration(model, () => dataset.batches(p.batchSize), {
        method: p.method,
        percentile: p.percentile,
        batches: p.batches,
        createSession,
        threads: ctx.resources['cpu'] ?? 1,
        progress: (done, total) => ctx.progress(done, total, 'batch'),
        signal: ctx.signal,
      });
    } catch (error) {
      if (!(error instanceof CalibrationError)) throw error;
      throw new StepError(`calibration failed: ${(error as Error).message}`, 'check that the dataset matches the model input (shape and preprocessing)', 'with.dataset');
    }
    const file = join(ctx.scratchDir, 'calibration.json');
    // The subset rides along (calibration readers ignore extra fields), so the file says which samples it saw.
    await writeFile(file, JSON.stringify({...calibration, subset: record}));
    ctx.log(
      `calibrated ${calibration.layers.length} layers on ${calibration.samples} samples (${record.order}${record.seed !== undefined ? `, seed ${record.seed}` : ''}; ` +
        `${p.method}${p.method === 'percentile' ? ` ${p.percentile}` : ''})`,
    );
    return {calibration: {file}};
  },
};
