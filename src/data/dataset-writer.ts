// Streams samples into the dataset directory format (manifest.ts): one reusable shard buffer, written
// out whenever it fills, so memory stays at one shard whatever the dataset size.
import {closeSync, mkdirSync, openSync, writeFileSync, writeSync} from 'node:fs';
import {join} from 'node:path';
import {DataError} from './data-error.js';
import {assertLittleEndianHost} from './endian.js';
import {DATASET_FORMAT, DATASET_FORMAT_VERSION, DTYPE_BYTES, MANIFEST_FILE, sampleSize, type DatasetManifest, type Preprocessing, type SampleDtype, type ShardEntry} from './manifest.js';
import type {SampleBuffer} from './sample-source.js';

export interface Sample {
  /** One sample, sampleShape elements of the source's dtype; the writer copies it, so sources may reuse the array. */
  x: SampleBuffer;
  label: number;
}

export interface DatasetSource {
  sampleShape: number[];
  /** Default float32. */
  dtype?: SampleDtype;
  classes: string[];
  preprocessing: Preprocessing;
  origin?: Record<string, unknown>;
  samples: Iterable<Sample> | AsyncIterable<Sample>;
}

export interface WriteOptions {
  /** Upper bound of one shard's size; default 64 MiB (at least one sample per shard). */
  shardBytes?: number;
  /** Called after each sample is stored, with the number stored so far. */
  onSample?(written: number): void;
}

const DEFAULT_SHARD_BYTES = 64 * 2 ** 20;

function shardFileName(index: number): string {
  return `shard-${String(index).padStart(5, '0')}.bin`;
}

/** Writes `source` into `dir` (created if needed) and returns the manifest it wrote last. */
export async function writeDataset(dir: string, source: DatasetSource, opts: WriteOptions = {}): Promise<DatasetManifest> {
  assertLittleEndianHost();
  const size = sampleSize(source.sampleShape);
  if (!Number.isInteger(size) || size <= 0) throw new DataError(`sample shape [${source.sampleShape.join(', ')}] must hold positive integers`);
  const dtype = source.dtype ?? 'float32';
  const elementBytes = DTYPE_BYTES[dtype];
  const perShard = Math.max(1, Math.floor((opts.shardBytes ?? DEFAULT_SHARD_BYTES) / (size * elementBytes + 4)));
  const x = dtype === 'uint8' ? new Uint8Array(perShard * size) : new Float32Array(perShard * size);
  const y = new Int32Array(perShard);
  const labelCounts = new Array<number>(source.classes.length).fill(0);
  const shards: ShardEntry[] = [];
  mkdirSync(dir, {recursive: true});

  let filled = 0;
  let count = 0;
  const flush = (): void => {
    if (filled === 0) return;
    const file = shardFileName(shards.length);
    const fd = openSync(join(dir, file), 'w');
    try {
      writeSync(fd, new Uint8Array(x.buffer, 0, filled * size * elementBytes));
      writeSync(fd, new Uint8Array(y.buffer, 0, filled * 4));
    } finally {
      closeSync(fd);
    }
    shards.push({file, count: filled});
    filled = 0;
  };

  for await (const sample of source.samples) {
    if (sample.x instanceof Uint8Array !== (dtype === 'uint8')) throw new Error(`sample ${count} is not ${dtype}, which its source declares`);
    if (sample.x.length !== size) {
      throw new DataError(`sample ${count} has ${sample.x.length} values; shape [${source.sampleShape.join(', ')}] needs ${size}`);
    }
    if (!Number.isInteger(sample.label) || sample.label < 0 || sample.label >= source.classes.length) {
      throw new DataError(`sample ${count} has label ${sample.label}, outside the ${source.classes.length} classes`);
    }
    x.set(sample.x, filled * size);
    y[filled] = sample.label;
    labelCounts[sample.label]!++;
    filled++;
    count++;
    if (filled === perShard) flush();
    opts.onSample?.(count);
  }
  flush();

  const manifest: DatasetManifest = {
    format: DATASET_FORMAT,
    version: DATASET_FORMAT_VERSION,
    sampleShape: [...source.sampleShape],
    dtype,
    labelDtype: 'int32',
    count,
    classes: [...source.classes],
    labelCounts,
    preprocessing: source.preprocessing,
    origin: source.origin ?? {},
    shards,
  };
  // The manifest goes last: a directory without one is an unfinished write, never a short dataset.
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
