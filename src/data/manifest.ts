// The on-disk dataset format every step reads and writes: a directory holding manifest.json and
// shard files. A shard holds `count` samples (N×sampleShape, row-major) followed by their `count`
// labels as little-endian int32, so one file read yields a batch. Samples are either little-endian
// float32, stored as consumers see them, or uint8 pixel bytes (images: a quarter of the disk and
// page cache), which readers turn into floats with the manifest's preprocessing scale/mean/std.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {DataError} from './data-error.js';

export const DATASET_FORMAT = 'axx-dataset';
export const DATASET_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

export type SampleDtype = 'float32' | 'uint8';

export const DTYPE_BYTES: Record<SampleDtype, number> = {float32: 4, uint8: 1};

export interface ShardEntry {
  /** File name relative to the dataset directory. */
  file: string;
  count: number;
}

/** How the stored floats were made from the source, so consumers can tell what a model must expect. */
export interface Preprocessing {
  /** One line for humans, e.g. "(x/255 - 0.1307)/0.3081". */
  description: string;
  /** Per-channel mean and std applied after scaling pixels to [0, 1]; absent for raw tensors. */
  mean?: number[];
  std?: number[];
  /** Applied before mean/std (1/255 for pixel bytes); default 1. */
  scale?: number;
  [detail: string]: unknown;
}

export interface DatasetManifest {
  format: typeof DATASET_FORMAT;
  version: typeof DATASET_FORMAT_VERSION;
  /** Shape of one sample, e.g. [1, 28, 28] (C, H, W for images). */
  sampleShape: number[];
  /** uint8: readers apply preprocessing (x·scale - mean)/std per channel. */
  dtype: SampleDtype;
  labelDtype: 'int32';
  count: number;
  /** Class names; label i names classes[i]. */
  classes: string[];
  /** Samples per class, indexed by label. */
  labelCounts: number[];
  preprocessing: Preprocessing;
  /** Where the samples came from (source kind, split, subset), for reports. */
  origin: Record<string, unknown>;
  shards: ShardEntry[];
}

export function sampleSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isCountArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isInteger(v) && v >= 0);
}

/** Reads and checks `dir/manifest.json`; throws DataError naming the file and the field at fault. */
export function readManifest(dir: string): DatasetManifest {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(
      code === 'ENOENT' ? 'no dataset manifest here' : `cannot read: ${(error as Error).message}`,
      file,
      'point at a directory written by load/dataset (writeDataset)',
    );
  }
  let m: Partial<DatasetManifest>;
  try {
    m = JSON.parse(text) as Partial<DatasetManifest>;
  } catch (error) {
    throw new DataError(`not valid JSON (${(error as Error).message})`, file);
  }
  const bad = (field: string, what: string): never => {
    throw new DataError(`field "${field}" ${what}`, file, 'the dataset directory is damaged or from another tool; write it again with load/dataset');
  };
  if (m.format !== DATASET_FORMAT) bad('format', `must be "${DATASET_FORMAT}"`);
  if (m.version !== DATASET_FORMAT_VERSION) bad('version', `is ${String(m.version)}; this axx reads version ${DATASET_FORMAT_VERSION}`);
  if (!isCountArray(m.sampleShape) || m.sampleShape.length === 0 || m.sampleShape.includes(0)) bad('sampleShape', 'must be a list of positive integers');
  if (m.dtype !== 'float32' && m.dtype !== 'uint8') bad('dtype', 'must be "float32" or "uint8"');
  if (m.labelDtype !== 'int32') bad('labelDtype', 'must be "int32"');
  if (!Number.isInteger(m.count) || m.count! < 0) bad('count', 'must be a non-negative integer');
  if (!Array.isArray(m.classes) || !m.classes.every((c) => typeof c === 'string')) bad('classes', 'must be a list of names');
  if (!isCountArray(m.labelCounts) || m.labelCounts.length !== m.classes!.length) bad('labelCounts', 'must hold one count per class');
  if (!Array.isArray(m.shards) || !m.shards.every((s) => typeof s?.file === 'string' && Number.isInteger(s.count) && s.count > 0)) {
    bad('shards', 'must be a list of {file, count}');
  }
  const total = m.shards!.reduce((sum, s) => sum + s.count, 0);
  if (total !== m.count) bad('shards', `hold ${total} samples but count is ${m.count}`);
  return m as DatasetManifest;
}
