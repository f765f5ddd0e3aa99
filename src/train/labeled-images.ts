// The training loop's view of a dataset: indexed images with integer labels, read batch by batch
// into caller-owned buffers (no per-batch allocation).

export interface LabeledImages {
  count: number;
  /** [channels, height, width] of one image. */
  imageShape: readonly [number, number, number];
  classes: number;
  /** Writes images `indices` (model-ready floats, NCHW) into `images` and their labels into `labels`. */
  read(indices: ArrayLike<number>, images: Float32Array, labels: BigInt64Array): void;
}

/**
 * Images held as one uint8 array [count, C, H, W] with uint8 labels (MNIST-style IDX data), read as
 * (p/255 - mean)/std (through a 256-entry float32 table, as src/data's IDX source computes it).
 */
export function uint8Images(
  pixels: Uint8Array,
  labels: ArrayLike<number>,
  imageShape: readonly [number, number, number],
  classes: number,
  normalize: {mean: number; std: number} = {mean: 0, std: 1},
): LabeledImages {
  const size = imageShape[0] * imageShape[1] * imageShape[2];
  const table = Float32Array.from({length: 256}, (_, p) => (p / 255 - normalize.mean) / normalize.std);
  const count = labels.length;
  if (pixels.length !== count * size) throw new Error(`image data has ${pixels.length} bytes, expected ${count} × ${size}`);
  return {
    count,
    imageShape,
    classes,
    read(indices, images, out) {
      for (let k = 0; k < indices.length; k++) {
        const index = indices[k]!;
        const base = index * size;
        const to = k * size;
        for (let i = 0; i < size; i++) images[to + i] = table[pixels[base + i]!]!;
        out[k] = BigInt(labels[index]!);
      }
    },
  };
}

