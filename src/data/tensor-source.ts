// NPY/NPZ tensors as a sample source: x of shape [N, ...sample] (any numeric dtype, converted to
// float32 and optionally normalised) and integer labels of shape [N]. Samples are read one at a
// time from the file, so x may be far larger than memory (unless deflated inside an NPZ).
import {statSync} from 'node:fs';
import {DataError} from './data-error.js';
import {fileBytes, openNpy, type NpyArray} from './npy.js';
import {openNpz} from './npz.js';
import {normalizer, type Normalization} from './normalize.js';
import type {SampleSource} from './sample-source.js';

export type TensorFiles =
  | {kind: 'npy'; x: string; labels: string}
  /** Array names inside the archive default to "x" and "y". */
  | {kind: 'npz'; file: string; xKey?: string; yKey?: string};

export interface TensorSourceOptions {
  files: TensorFiles;
  /** Class names (label i → classes[i]); default "0" … "<max label>". */
  classes?: string[];
  normalization?: Normalization;
}

function openNpyFile(file: string): NpyArray {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new DataError('NPY file does not exist', file, 'check the path (relative paths resolve against the directory axx runs in)');
  }
  return openNpy(fileBytes(file, 0, size), file);
}

function openArrays(files: TensorFiles): {x: NpyArray; y: NpyArray; xName: string; yName: string} {
  if (files.kind === 'npy') return {x: openNpyFile(files.x), y: openNpyFile(files.labels), xName: files.x, yName: files.labels};
  const archive = openNpz(files.file);
  const xKey = files.xKey ?? 'x';
  const yKey = files.yKey ?? 'y';
  return {x: archive.open(xKey), y: archive.open(yKey), xName: `${files.file}:${xKey}`, yName: `${files.file}:${yKey}`};
}

export function tensorSource(opts: TensorSourceOptions): SampleSource {
  const {x, y, xName, yName} = openArrays(opts.files);
  const fail = (message: string, file: string, hint?: string): never => {
    x.close();
    y.close();
    throw new DataError(message, file, hint);
  };
  if (x.shape.length < 2) fail(`samples need shape [N, ...], found (${x.shape.join(', ')})`, xName, 'the first axis indexes samples');
  if (y.shape.length !== 1) fail(`labels need shape [N], found (${y.shape.join(', ')})`, yName);
  if (!/^[<>|=]?[iub]/.test(y.descr)) fail(`labels must be integers, found dtype ${y.descr}`, yName, 'save labels with an integer dtype, e.g. labels.astype(numpy.int64)');
  const count = x.shape[0]!;
  if (y.shape[0] !== count) fail(`${y.shape[0]} labels for ${count} samples in ${xName}`, yName, 'x and labels must have the same first dimension');

  const labels = new Int32Array(count);
  y.readElements(0, labels);
  y.close();
  const negative = labels.findIndex((l) => l < 0);
  if (negative >= 0) fail(`label ${labels[negative]} of sample ${negative} is negative`, yName);
  const classCount = labels.reduce((m, l) => Math.max(m, l + 1), 0);
  const classes = opts.classes ?? Array.from({length: classCount}, (_, i) => String(i));
  if (classCount > classes.length) fail(`label ${classCount - 1} has no class name (${classes.length} given)`, yName, 'list one name per class');

  const sampleShape = x.shape.slice(1);
  const size = sampleShape.reduce((a, b) => a * b, 1);
  let norm;
  try {
    norm = normalizer(sampleShape, opts.normalization ?? {});
  } catch (error) {
    x.close();
    throw error;
  }
  return {
    sampleShape,
    classes,
    labels,
    preprocessing: {...norm.preprocessing, dtype: x.descr},
    origin: {source: opts.files.kind, x: xName, labels: yName},
    read(index, out: Float32Array) {
      x.readElements(index * size, out);
      norm.apply(out);
    },
    close: () => x.close(),
  };
}
