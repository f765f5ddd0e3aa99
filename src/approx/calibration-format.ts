// The calibration file (step output format "calibration"): JSON, one entry per operand value.
//
// {
//   "format": "axx-calibration", "version": 1,
//   "method": "percentile" | "max" | "mse", "percentile": 99.99, "samples": 256, "batches": 4,
//   "values": {                       // keyed by ONNX value name (activation) or initializer name (weight)
//     "<name>": {"role": "activation" | "weight",
//                "max": max |x|, "amax": chosen clipping magnitude,
//                "histogram": {"range": r, "counts": [2048 counts of |x| over [0, r)]},
//                "operandCounts": [256 counts of quantised bytes, index q & 0xff]}
//   },
//   "layers": [{"node": "blocks.0.attn.qkv", "op": "MatMul", "kind": "weight" | "activations",
//               "operands": [first operand value, second operand value]}]
// }
import {readFile} from 'node:fs/promises';
import {CALIBRATION_METHODS, HISTOGRAM_BINS, type CalibrationMethod} from './calibration.js';

/** A calibration file that cannot be read or is not a valid calibration; the message names the file and field. */
export class CalibrationFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CalibrationFormatError';
  }
}

export const CALIBRATION_FORMAT = 'axx-calibration';

export interface OperandStatistics {
  role: 'activation' | 'weight';
  max: number;
  amax: number;
  histogram: {range: number; counts: number[]};
  operandCounts: number[];
}

export interface CalibrationFile {
  format: typeof CALIBRATION_FORMAT;
  version: 1;
  method: CalibrationMethod;
  percentile: number;
  samples: number;
  batches: number;
  values: Record<string, OperandStatistics>;
  layers: {node: string; op: string; kind: 'weight' | 'activations'; operands: [string, string]}[];
}

/** Reads and checks a calibration file; every problem is a CalibrationFormatError. */
export async function readCalibrationFile(file: string): Promise<CalibrationFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CalibrationFormatError(`cannot read the calibration ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CalibrationFormatError(`${file}: not JSON (${(error as Error).message})`);
  }
  return parseCalibration(json, file);
}

/** Checks a parsed calibration file; errors (CalibrationFormatError) name the file and the field. */
export function parseCalibration(json: unknown, file: string): CalibrationFile {
  const fail = (what: string): never => {
    throw new CalibrationFormatError(`${file}: not a valid axx calibration file: ${what} (re-run the calibrate step to regenerate it)`);
  };
  if (typeof json !== 'object' || json === null) return fail('expected a JSON object');
  const c = json as Partial<CalibrationFile>;
  if (c.format !== CALIBRATION_FORMAT) fail(`"format" must be "${CALIBRATION_FORMAT}"`);
  if (c.version !== 1) fail(`unsupported "version" ${String(c.version)} (this axx reads version 1)`);
  if (!CALIBRATION_METHODS.includes(c.method as CalibrationMethod)) fail(`"method" must be one of ${CALIBRATION_METHODS.join(', ')}`);
  if (typeof c.values !== 'object' || c.values === null) fail('"values" must be an object');
  for (const [name, v] of Object.entries(c.values!)) {
    if (typeof v?.amax !== 'number' || !(v.amax >= 0)) fail(`values["${name}"].amax must be a non-negative number`);
    if (v.histogram?.counts?.length !== HISTOGRAM_BINS) fail(`values["${name}"].histogram.counts must hold ${HISTOGRAM_BINS} counts`);
    if (v.operandCounts?.length !== 256) fail(`values["${name}"].operandCounts must hold 256 counts`);
  }
  if (!Array.isArray(c.layers)) fail('"layers" must be an array');
  return c as CalibrationFile;
}
