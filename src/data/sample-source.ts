// What every dataset source (IDX, image folder, NPY/NPZ) offers: all labels up front (for subset
// selection and stratification) and samples decoded one at a time on demand, so a source never
// needs the whole set in memory.
import type {Sample} from './dataset-writer.js';
import type {Preprocessing} from './manifest.js';

export interface SampleSource {
  sampleShape: number[];
  classes: string[];
  /** Label of every sample in the source. */
  labels: Int32Array;
  preprocessing: Preprocessing;
  origin: Record<string, unknown>;
  /** Decodes sample `index` into `out` (sampleShape elements). */
  read(index: number, out: Float32Array): void | Promise<void>;
  /** Releases files the source keeps open. */
  close?(): void;
}

/** Streams the samples `indices` of `source`, decoding each into one reused buffer. */
export async function* selectedSamples(source: SampleSource, indices: ArrayLike<number>): AsyncGenerator<Sample> {
  const x = new Float32Array(source.sampleShape.reduce((a, b) => a * b, 1));
  try {
    for (let k = 0; k < indices.length; k++) {
      const index = indices[k]!;
      await source.read(index, x);
      yield {x, label: source.labels[index]!};
    }
  } finally {
    source.close?.();
  }
}
