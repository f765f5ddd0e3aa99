// What every dataset source (IDX, image folder, NPY/NPZ) offers: all labels up front (for subset
// selection and stratification) and samples decoded one at a time on demand, so a source never
// needs the whole set in memory.
import type {Sample} from './dataset-writer.js';
import type {Preprocessing, SampleDtype} from './manifest.js';

export type {SampleDtype} from './manifest.js';

/** One sample's values: normalised floats, or pixel bytes that readers normalise (see manifest.ts). */
export type SampleBuffer = Float32Array | Uint8Array;

export interface SampleSource {
  sampleShape: number[];
  /** What read() writes; default float32. */
  dtype?: SampleDtype;
  classes: string[];
  /** Label of every sample in the source. */
  labels: Int32Array;
  preprocessing: Preprocessing;
  origin: Record<string, unknown>;
  /** Decodes sample `index` into `out` (sampleShape elements of `dtype`). */
  read(index: number, out: SampleBuffer): void | Promise<void>;
  /** How many reads may be in flight at once (sources decoding in other threads); default 1. */
  concurrency?: number;
  /** Releases files the source keeps open. */
  close?(): void;
}

/**
 * Streams the samples `indices` of `source` in order. Up to `source.concurrency` reads run ahead,
 * each into its own buffer of a small ring; a yielded sample stays valid until the next one.
 */
export async function* selectedSamples(source: SampleSource, indices: ArrayLike<number>): AsyncGenerator<Sample> {
  const size = source.sampleShape.reduce((a, b) => a * b, 1);
  const ahead = Math.max(1, source.concurrency ?? 1);
  // One more buffer than reads in flight: the yielded sample's buffer is not refilled while the caller holds it.
  const ring = Array.from({length: Math.min(ahead + 1, Math.max(1, indices.length))}, () => (source.dtype === 'uint8' ? new Uint8Array(size) : new Float32Array(size)));
  const pending: Promise<void>[] = [];
  let next = 0;
  if (ahead === 1) {
    // One read at a time: no promise bookkeeping for synchronous sources (IDX, NPY).
    try {
      for (let k = 0; k < indices.length; k++) {
        const reading = source.read(indices[k]!, ring[0]!);
        if (reading) await reading;
        yield {x: ring[0]!, label: source.labels[indices[k]!]!};
      }
    } finally {
      source.close?.();
    }
    return;
  }
  const start = () => {
    const k = next++;
    // Settled later in order; a rejection is observed when its turn comes.
    const read = Promise.resolve().then(() => source.read(indices[k]!, ring[k % ring.length]!));
    read.catch(() => {});
    pending.push(read);
  };
  try {
    for (let k = 0; k < indices.length; k++) {
      while (next < indices.length && next - k < ahead) start();
      await pending.shift();
      yield {x: ring[k % ring.length]!, label: source.labels[indices[k]!]!};
    }
  } finally {
    // Let reads still running finish before the source closes.
    await Promise.allSettled(pending);
    source.close?.();
  }
}
