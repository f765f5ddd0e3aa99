// Step kind "characterize": error metrics, rank and hardware figures of the named multipliers, uniform
// over all operand pairs and, given a calibration file, weighted by the operand distribution the model
// actually produces.
import {readFile} from 'node:fs/promises';
import {parseCalibration} from '../approx/calibration-format.js';
import {isMultiplierInputError, multiplierIds, resolveMultiplier} from '../approx/library.js';
import {characterize, type OperandDistribution} from '../approx/metrics.js';
import type {Multiplier} from '../approx/multiplier.js';
import {StepError, type Json, type StepKind} from '../engine/step-kind.js';

export interface CharacterizeParams {
  multipliers: string[];
  distribution?: string;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['multipliers'],
  properties: {
    multipliers: {
      type: 'array',
      minItems: 1,
      items: {type: 'string', minLength: 1},
      description: 'Multiplier names (mul8s_1L2H, exact8s, trunc8s_k4c …) or files (my_mult.v, table.bin).',
    },
    distribution: {
      type: 'string',
      'x-axx-input': {type: 'file', format: 'calibration'},
      description: 'A calibrate output: metrics are also weighted by its operand byte histograms (row operand × column operand).',
    },
  },
};

function resolveParam(name: string, index: number): Multiplier {
  try {
    return resolveMultiplier(name);
  } catch (error) {
    if (isMultiplierInputError(error)) throw new StepError(error.message, 'run "axx multipliers" for the names; see README "Multipliers"', `with.multipliers.${index}`, ['multipliers']);
    throw error;
  }
}

/**
 * The operand distribution of a calibrated model: per approximable layer, the byte histograms of the
 * table's row operand a and column operand b in L[a][b], each normalised, summed over layers. Layers list
 * their operands in node-input order (activation first); the row operand is the activation for
 * MatMul/Gemm and the weight for Conv, as the rewrite assigns them (src/approx/rewrite-manifest.ts).
 */
export function calibrationDistribution(json: unknown, file: string): OperandDistribution {
  const calibration = parseCalibration(json, file);
  const a = new Float64Array(256);
  const b = new Float64Array(256);
  const addNormalised = (target: Float64Array, valueName: string, layer: string): void => {
    const counts = calibration.values[valueName]?.operandCounts;
    if (counts === undefined) throw new Error(`${file}: layer ${layer} names operand "${valueName}", which has no entry in "values"`);
    const total = counts.reduce((sum, c) => sum + c, 0);
    if (total > 0) counts.forEach((c, i) => (target[i]! += c / total));
  };
  for (const layer of calibration.layers) {
    const [row, column] = layer.op === 'Conv' ? [layer.operands[1], layer.operands[0]] : layer.operands;
    addNormalised(a, row, layer.node);
    addNormalised(b, column, layer.node);
  }
  if (!a.some((c) => c > 0) || !b.some((c) => c > 0)) throw new Error(`${file}: no approximable layer with recorded operand histograms`);
  return {a, b};
}

async function readDistribution(file: string): Promise<OperandDistribution> {
  try {
    return calibrationDistribution(JSON.parse(await readFile(file, 'utf8')), file);
  } catch (error) {
    if (error instanceof Error) throw new StepError(`cannot use ${file} as operand distribution: ${error.message}`, 'pass the calibration output of a calibrate step', 'with.distribution');
    throw error;
  }
}

export const characterizeKind: StepKind<CharacterizeParams> = {
  name: 'characterize',
  version: 1,
  description: 'Error metrics (MAE, WCE, MRE, EP, bias …), table rank and hardware figures of multipliers, optionally weighted by calibrated operand distributions',
  schema,
  outputs: {metrics: {type: 'value', format: 'multiplier-metrics', description: 'Per multiplier name: its characterization (metrics, weighted metrics, rank, hardware, provenance).'}},
  // Files named as multipliers enter the key by content.
  keyExtras: (params) => multiplierIds(params.multipliers),
  async run(ctx) {
    const {multipliers, distribution} = ctx.params;
    const weights = distribution === undefined ? undefined : await readDistribution(distribution);
    const result: Record<string, Json> = {};
    for (const [index, name] of multipliers.entries()) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      result[name] = characterize(resolveParam(name, index), weights) as unknown as Json;
      ctx.progress(index + 1, multipliers.length, 'multiplier');
    }
    return {metrics: {value: result}};
  },
};
