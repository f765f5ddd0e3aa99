// Reads "which multiplier does each layer use, and how many MACs does it do" from whatever the caller
// has: the `approximate` step's manifest ({layers: [...]}) or a bare list. Extra fields are ignored, so
// the manifest can grow without breaking `synthesize`.
import type {CalibrationFile, OperandStatistics} from '../approx/calibration-format.js';
import type {OperandHistograms} from './activity.js';
import {HwError} from './hw-error.js';

export interface LayerEntry {
  layer: string;
  macs: number;
  multiplier: string;
  /** Multiplier id recorded by the producer; checked against the resolved multiplier when present. */
  multiplierId?: string;
  /** Which of the op's operands is the table's row operand `a` (the manifest's `tableRow`). */
  tableRow?: 'first' | 'second';
  /** An unsigned circuit applied to signed operands through a sign-magnitude wrapper (manifest `multiplier.operands`). */
  signMagnitude?: true;
}

type JsonObject = Record<string, unknown>;

/** `where` names the input for messages, e.g. "with.manifest". */
export function readLayerEntries(input: unknown, where: string): LayerEntry[] {
  const list = Array.isArray(input) ? input : isObject(input) && Array.isArray(input.layers) ? input.layers : undefined;
  if (list === undefined) {
    throw new HwError(`${where}: expected a manifest with a "layers" list (or a list of {layer, macs, multiplier}), got ${describe(input)}`);
  }
  if (list.length === 0) throw new HwError(`${where}: the manifest lists no layers`);
  const seen = new Set<string>();
  return list.map((item: unknown, index) => {
    const at = `${where}.layers[${index}]`;
    if (!isObject(item)) throw new HwError(`${at}: expected an object, got ${describe(item)}`);
    const layer = firstString(item, ['layer', 'name', 'node', 'nodeName']);
    if (layer === undefined) throw new HwError(`${at}: no layer name (field "layer", "name" or "node")`);
    if (seen.has(layer)) throw new HwError(`${at}: layer ${layer} is listed twice`);
    seen.add(layer);
    const macs = item.macs;
    if (macs === null) {
      throw new HwError(`${at} (${layer}): MACs unknown (the producer could not infer this layer's shapes); give the model static input shapes`);
    }
    if (typeof macs !== 'number' || !Number.isFinite(macs) || macs < 0) {
      throw new HwError(`${at} (${layer}): "macs" must be a non-negative number, got ${describe(macs)}`);
    }
    const entry: LayerEntry = {layer, macs, ...readMultiplier(item, at, layer)};
    if (item.tableRow === 'first' || item.tableRow === 'second') entry.tableRow = item.tableRow;
    return entry;
  });
}

function readMultiplier(item: JsonObject, at: string, layer: string): Pick<LayerEntry, 'multiplier' | 'multiplierId' | 'signMagnitude'> {
  const value = item.multiplier;
  if (typeof value === 'string') {
    const id = item.multiplierId;
    return typeof id === 'string' ? {multiplier: value, multiplierId: id} : {multiplier: value};
  }
  if (isObject(value) && typeof value.name === 'string') {
    return {
      multiplier: value.name,
      ...(typeof value.id === 'string' ? {multiplierId: value.id} : {}),
      ...(value.operands === 'sign-magnitude wrapper' ? {signMagnitude: true as const} : {}),
    };
  }
  throw new HwError(`${at} (${layer}): "multiplier" must be a name or {name, id}, got ${describe(value)}`);
}

function firstString(item: JsonObject, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = item[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Per-layer operand histograms from a calibration file (src/approx/calibration-format.ts): each layer's
 * two operands' `operandCounts` (by raw byte). The multiplier's row operand `a` is the one the manifest's
 * `tableRow` names; without it, the op's first operand, except for Conv, whose weight is the row operand
 * (as TransAxx indexes its tables).
 */
export function readOperandHistograms(
  calibration: CalibrationFile,
  layers: readonly Pick<LayerEntry, 'layer' | 'tableRow'>[],
  where: string,
): Map<string, OperandHistograms> {
  const result = new Map<string, OperandHistograms>();
  for (const {layer, tableRow} of layers) {
    const entry = calibration.layers.find((candidate) => candidate.node === layer);
    if (entry === undefined) throw new HwError(`${where}: the calibration has no layer ${layer} (it lists ${calibration.layers.length} layers)`);
    const [first, second] = entry.operands.map((name) => {
      const statistics = calibration.values[name];
      if (statistics === undefined) throw new HwError(`${where}: the calibration lacks statistics of ${name} (operand of ${layer})`);
      return statistics;
    }) as [OperandStatistics, OperandStatistics];
    const rowIsSecond = (tableRow ?? (entry.op === 'Conv' ? 'second' : 'first')) === 'second';
    const [a, b] = rowIsSecond ? [second, first] : [first, second];
    const weightOperand = a.role === 'weight' ? 'a' : b.role === 'weight' ? 'b' : undefined;
    result.set(layer, weightOperand === undefined ? {a: a.operandCounts, b: b.operandCounts} : {a: a.operandCounts, b: b.operandCounts, weightOperand});
  }
  return result;
}
