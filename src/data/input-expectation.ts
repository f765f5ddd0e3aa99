// Models trained or shipped by axx record the input they expect in their ONNX metadata (key
// "axx.input": either {range: [0, 1]} — raw pixels, normalised inside the graph — or the
// preprocessing of the dataset they were trained on). Feeding them differently preprocessed data
// silently costs accuracy (measured: an MNIST ViT normalising inside its graph fell from 98.5% to
// 68% on pre-normalised pixels), so evaluation checks it.
import type {Preprocessing} from './manifest.js';

const isIdentity = (p: Preprocessing) => (p.mean ?? [0]).every((m) => m === 0) && (p.std ?? [1]).every((s) => s === 1);

const sameValues = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) < 1e-6);

/** Why `dataset` does not fit the model's recorded input (the "axx.input" JSON), or undefined. */
export function inputMismatch(recorded: string | undefined, dataset: Preprocessing): string | undefined {
  if (recorded === undefined) return undefined;
  let expected: {range?: unknown; mean?: number[]; std?: number[]};
  try {
    expected = JSON.parse(recorded) as typeof expected;
  } catch {
    return undefined;
  }
  if (Array.isArray(expected.range) && expected.mean === undefined) {
    return isIdentity(dataset)
      ? undefined
      : `the model expects pixels in [${expected.range.join(', ')}] and normalises them itself, but the dataset was normalised (${dataset.description}); load it with transform {mean: 0, std: 1}`;
  }
  if (expected.mean !== undefined || expected.std !== undefined) {
    const fits = sameValues(expected.mean ?? [0], dataset.mean ?? [0]) && sameValues(expected.std ?? [1], dataset.std ?? [1]);
    return fits ? undefined : `the model was trained on data normalised with mean ${JSON.stringify(expected.mean)} / std ${JSON.stringify(expected.std)}, but the dataset has ${dataset.description}`;
  }
  return undefined;
}

/** A model input's dims as onnxruntime or the ONNX graph give them: numbers, or names/null for free dims. */
export type InputDims = readonly (number | string | null)[];

/**
 * Why samples of `sampleShape` (plus a leading batch dimension) cannot feed a model input of `dims`,
 * or undefined when they can (free dims fit anything).
 */
export function inputShapeMismatch(dims: InputDims, sampleShape: readonly number[], input: string): string | undefined {
  const sampleDims = dims.slice(1);
  const fits = sampleDims.length === sampleShape.length && sampleDims.every((d, i) => typeof d !== 'number' || d === sampleShape[i]);
  if (fits) return undefined;
  const show = (d: number | string | null) => (d === null ? '?' : String(d));
  return `model input "${input}" has shape [${dims.map(show).join(', ')}] but dataset samples are [${sampleShape.join(', ')}] (plus a batch dimension)`;
}
