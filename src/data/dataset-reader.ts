// Reads a dataset directory (manifest.ts) batch by batch into buffers that are reused between
// batches, or sample by sample in any order (shuffled training). Nothing holds the whole set.
// uint8 samples are normalised on the way, with the arithmetic a float32 dataset was written with,
// so both give the same floats.
import {closeSync, openSync, readSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {DataError} from './data-error.js';
import {assertLittleEndianHost} from './endian.js';
import {DTYPE_BYTES, readManifest, sampleSize, type DatasetManifest} from './manifest.js';
import {normalizer} from './normalize.js';

export interface Batch {
  /** count × sampleSize floats. The same memory is refilled by the next batch: copy what you keep. */
  x: Float32Array;
  /** count labels, reused like x. */
  y: Int32Array;
  count: number;
  /** Index of the batch's first sample in the dataset. */
  start: number;
}

export interface BatchRange {
  /** First sample (default 0). */
  start?: number;
  /** At most this many samples (default: to the end). */
  limit?: number;
}

export interface Dataset {
  dir: string;
  manifest: DatasetManifest;
  /** Values per sample (floats as read, whatever the stored dtype). */
  sampleSize: number;
  /** Consecutive batches; the last one may be short (then x and y are shorter views of the same memory). */
  batches(batchSize: number, range?: BatchRange): Iterable<Batch>;
  /** Writes samples `indices` (any order, repeats allowed) into x (indices.length × sampleSize) and y. */
  readSamples(indices: ArrayLike<number>, x: Float32Array, y: Int32Array): void;
  /** Every sample's label, read without the samples (what choosing a subset needs). */
  readLabels(): Int32Array;
}

/** Opens `dir` and checks every shard's size against the manifest. */
export function openDataset(dir: string): Dataset {
  assertLittleEndianHost();
  const manifest = readManifest(dir);
  const size = sampleSize(manifest.sampleShape);
  const elementBytes = DTYPE_BYTES[manifest.dtype];
  const {preprocessing} = manifest;
  const normalize = manifest.dtype === 'uint8' ? normalizer(manifest.sampleShape, {scale: preprocessing.scale, mean: preprocessing.mean, std: preprocessing.std}).apply : undefined;
  const shardStarts: number[] = [];
  let total = 0;
  for (const shard of manifest.shards) {
    const file = join(dir, shard.file);
    const expected = shard.count * (size * elementBytes + 4);
    let actual: number;
    try {
      actual = statSync(file).size;
    } catch {
      throw new DataError('shard listed in manifest.json is missing', file, 'the dataset directory is incomplete; write it again with load/dataset');
    }
    if (actual !== expected) throw new DataError(`shard has ${actual} bytes, manifest.json says ${shard.count} samples = ${expected} bytes`, file);
    shardStarts.push(total);
    total += shard.count;
  }

  /** The shard holding sample `index` (binary search over shard starts). */
  const shardOf = (index: number): number => {
    let lo = 0;
    let hi = shardStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (shardStarts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  /** Opens shard files on first use and closes them all in `done`. */
  const fileCache = () => {
    const fds = new Map<number, number>();
    return {
      fd(shard: number): number {
        let fd = fds.get(shard);
        if (fd === undefined) {
          fd = openSync(join(dir, manifest.shards[shard]!.file), 'r');
          fds.set(shard, fd);
        }
        return fd;
      },
      done(): void {
        for (const fd of fds.values()) closeSync(fd);
        fds.clear();
      },
    };
  };

  /** Pixel bytes of uint8 samples on their way to floats; grown to the largest read. */
  let staging = new Uint8Array(0);

  /** Copies samples [first, first+n) into x/y starting at sample slot `slot`, across shard boundaries. */
  const readRange = (files: ReturnType<typeof fileCache>, first: number, n: number, x: Float32Array, y: Int32Array, slot: number): void => {
    const xBytes = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    const yBytes = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
    const sampleBytes = size * elementBytes;
    while (n > 0) {
      const shard = shardOf(first);
      const shardCount = manifest.shards[shard]!.count;
      const local = first - shardStarts[shard]!;
      const take = Math.min(n, shardCount - local);
      const fd = files.fd(shard);
      if (normalize === undefined) readExactly(fd, xBytes, slot * sampleBytes, take * sampleBytes, local * sampleBytes, dir);
      else {
        if (staging.length < take * sampleBytes) staging = new Uint8Array(take * sampleBytes);
        readExactly(fd, staging, 0, take * sampleBytes, local * sampleBytes, dir);
        for (let k = 0; k < take; k++) {
          const sample = x.subarray((slot + k) * size, (slot + k + 1) * size);
          sample.set(staging.subarray(k * size, (k + 1) * size));
          normalize(sample);
        }
      }
      readExactly(fd, yBytes, slot * 4, take * 4, shardCount * sampleBytes + local * 4, dir);
      first += take;
      slot += take;
      n -= take;
    }
  };

  const checkIndex = (index: number): void => {
    if (!Number.isInteger(index) || index < 0 || index >= total) throw new RangeError(`sample index ${index} outside 0..${total - 1}`);
  };

  return {
    dir,
    manifest,
    sampleSize: size,
    *batches(batchSize, range = {}) {
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer (got ${batchSize})`);
      const start = range.start ?? 0;
      if (!Number.isInteger(start) || start < 0) throw new RangeError(`batch range start must be a non-negative integer (got ${start})`);
      const end = Math.min(total, start + (range.limit ?? total));
      const x = new Float32Array(batchSize * size);
      const y = new Int32Array(batchSize);
      const files = fileCache();
      try {
        for (let first = start; first < end; first += batchSize) {
          const count = Math.min(batchSize, end - first);
          readRange(files, first, count, x, y, 0);
          const full = count === batchSize;
          yield {x: full ? x : x.subarray(0, count * size), y: full ? y : y.subarray(0, count), count, start: first};
        }
      } finally {
        files.done();
      }
    },
    readSamples(indices, x, y) {
      if (x.length < indices.length * size || y.length < indices.length) throw new RangeError(`buffers too small for ${indices.length} samples`);
      const files = fileCache();
      try {
        for (let k = 0; k < indices.length; k++) {
          const index = indices[k]!;
          checkIndex(index);
          readRange(files, index, 1, x, y, k);
        }
      } finally {
        files.done();
      }
    },
    readLabels() {
      const labels = new Int32Array(total);
      const bytes = new Uint8Array(labels.buffer);
      const files = fileCache();
      try {
        manifest.shards.forEach((shard, i) => readExactly(files.fd(i), bytes, shardStarts[i]! * 4, shard.count * 4, shard.count * size * elementBytes, dir));
      } finally {
        files.done();
      }
      return labels;
    },
  };
}

function readExactly(fd: number, into: Uint8Array, offset: number, length: number, position: number, dir: string): void {
  let done = 0;
  while (done < length) {
    const got = readSync(fd, into, offset + done, length - done, position + done);
    if (got === 0) throw new DataError('a shard ended early (changed since it was opened?)', dir);
    done += got;
  }
}
