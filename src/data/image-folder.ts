// An image folder (ImageNet validation layout: one sub-folder per class of JPEG/PNG files) as a
// sample source, with timm's evaluation transform: resize the shorter side to floor(size/cropPct)
// (bicubic by default, as timm's ViT configs; bilinear optional; Pillow-exact, see resample.ts),
// center-crop size×size, scale to [0, 1], normalise with mean/std. Classes are the sorted folder
// names (torchvision ImageFolder order); files within a class are sorted by name.
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {extname, join} from 'node:path';
import {DataError} from './data-error.js';
import {ImageDecoder} from './image-decode.js';
import {normalizer} from './normalize.js';
import {ImageWorkerPool} from './image-worker-pool.js';
import {Resampler, type Interpolation} from './resample.js';
import type {SampleSource} from './sample-source.js';

export interface ImageTransform {
  /** Crop size (square), default 224. */
  size: number;
  /** Fraction of the resized image the crop keeps, in (0, 1]; default 0.875 (timm's default). */
  cropPct: number;
  interpolation: Interpolation;
  mean: number[];
  std: number[];
  channels: 1 | 3;
}

export const TIMM_EVAL_TRANSFORM: ImageTransform = {
  size: 224,
  cropPct: 0.875,
  interpolation: 'bicubic',
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  channels: 3,
};

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);

export interface ImageFolderListing {
  classes: string[];
  files: string[];
  labels: Int32Array;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Classes and image files under `root`; every class folder must hold at least one image. */
export function listImageFolder(root: string): ImageFolderListing {
  if (!isDirectory(root)) throw new DataError('image folder does not exist or is not a directory', root);
  const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const classes = readdirSync(root)
    .filter((name) => !name.startsWith('.') && isDirectory(join(root, name)))
    .sort(byCodePoint);
  if (classes.length === 0) throw new DataError('no class sub-folders found', root, 'put the images of each class into their own sub-folder (ImageNet validation layout)');
  const files: string[] = [];
  const labels: number[] = [];
  classes.forEach((name, label) => {
    const dir = join(root, name);
    const images = readdirSync(dir)
      .filter((f) => !f.startsWith('.') && IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
      .sort(byCodePoint);
    if (images.length === 0) throw new DataError('class folder holds no .jpg/.jpeg/.png images', dir, 'remove the empty folder or add its images');
    for (const image of images) {
      files.push(join(dir, image));
      labels.push(label);
    }
  });
  return {classes, files, labels: Int32Array.from(labels)};
}

/** Python's round(): halves go to the even neighbour (torchvision's center crop uses it). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision Resize(int) + CenterCrop geometry for an image of width×height. */
export function evalGeometry(width: number, height: number, t: Pick<ImageTransform, 'size' | 'cropPct'>) {
  const shortSide = Math.floor(t.size / t.cropPct);
  const [outWidth, outHeight] = width <= height ? [shortSide, Math.trunc((shortSide * height) / width)] : [Math.trunc((shortSide * width) / height), shortSide];
  const crop = {left: roundHalfEven((outWidth - t.size) / 2), top: roundHalfEven((outHeight - t.size) / 2), width: t.size, height: t.size};
  return {outWidth, outHeight, crop};
}

function checkTransform(t: ImageTransform): void {
  if (!Number.isInteger(t.size) || t.size < 1) throw new DataError(`transform size must be a positive integer (got ${t.size})`);
  if (!(t.cropPct > 0 && t.cropPct <= 1)) throw new DataError(`transform cropPct must be in (0, 1] (got ${t.cropPct})`);
}

/** Decodes and transforms image files one at a time, reusing its buffers. */
export class ImageTransformer {
  readonly #decoder: ImageDecoder;
  readonly #resampler = new Resampler();
  readonly #crop: Uint8Array;
  readonly #normalize: (sample: Float32Array) => void;

  constructor(readonly transform: ImageTransform) {
    checkTransform(transform);
    this.#decoder = new ImageDecoder(transform.channels);
    this.#crop = new Uint8Array(transform.size * transform.size * transform.channels);
    this.#normalize = normalizer(this.sampleShape, {scale: 1 / 255, mean: transform.mean, std: transform.std}).apply;
  }

  get sampleShape(): number[] {
    return [this.transform.channels, this.transform.size, this.transform.size];
  }

  /** Reads `file` and writes its transformed sample (C×size×size floats) into `out`. */
  load(file: string, out: Float32Array): void {
    const {channels, size, interpolation} = this.transform;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      throw new DataError(`cannot read image: ${(error as Error).message}`, file);
    }
    const image = this.#decoder.decode(bytes, file);
    const geometry = evalGeometry(image.width, image.height, this.transform);
    const crop = this.#crop;
    this.#resampler.resizeCrop(image.pixels, image.width, image.height, channels, geometry.outWidth, geometry.outHeight, geometry.crop, interpolation, crop);
    // Interleaved HWC bytes → planar CHW floats.
    const plane = size * size;
    for (let c = 0; c < channels; c++) for (let i = 0; i < plane; i++) out[c * plane + i] = crop[i * channels + c]!;
    this.#normalize(out);
  }
}

export interface ImageFolderOptions {
  /** Decode in this many worker threads (default 1: in this thread). */
  workers?: number;
}

export function imageFolderSource(root: string, transform: ImageTransform = TIMM_EVAL_TRANSFORM, opts: ImageFolderOptions = {}): SampleSource {
  const transformer = new ImageTransformer(transform);
  const listing = listImageFolder(root);
  const {size, channels} = transform;
  const sampleShape = transformer.sampleShape;
  const norm = normalizer(sampleShape, {scale: 1 / 255, mean: transform.mean, std: transform.std});
  const workers = Math.max(1, Math.floor(opts.workers ?? 1));
  const pool = workers > 1 ? new ImageWorkerPool(workers, transform) : undefined;
  return {
    sampleShape,
    classes: listing.classes,
    labels: listing.labels,
    preprocessing: {
      ...norm.preprocessing,
      description: `timm eval: resize shorter side to ${Math.floor(size / transform.cropPct)} (${transform.interpolation}), center crop ${size}, ${norm.preprocessing.description}`,
      size,
      cropPct: transform.cropPct,
      interpolation: transform.interpolation,
    },
    origin: {source: 'image-folder', root},
    concurrency: workers,
    read(index, out) {
      const file = listing.files[index]!;
      if (pool === undefined) return transformer.load(file, out);
      return pool.load(file, out);
    },
    close: () => pool?.close(),
  };
}
