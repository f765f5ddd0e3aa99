// An image folder (ImageNet layout: one sub-folder per class of JPEG/PNG files) as a sample
// source, with timm's evaluation transform: resize the shorter side to floor(size/cropPct)
// (bicubic by default, as timm's ViT configs; bilinear optional; Pillow-exact, see resample.ts),
// center-crop size×size. Samples are the cropped pixel bytes (CHW uint8); scaling to [0, 1] and
// mean/std are applied when the dataset is read (or here, for float32 datasets). Classes are the
// sorted folder names (torchvision ImageFolder order) unless a class list gives the model's order;
// files within a class are sorted by name. Decoding runs in sharp's threads, `concurrency` at a time.
import {readdirSync, statSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {extname, join} from 'node:path';
import {DataError} from './data-error.js';
import {decodeImage} from './image-decode.js';
import {normalizer} from './normalize.js';
import {Resampler, type Interpolation} from './resample.js';
import type {SampleDtype, SampleSource} from './sample-source.js';

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

/**
 * Classes and image files under `root`; every class folder must hold at least one image. With
 * `classOrder` (the model's class folder names, label i = classOrder[i]) labels follow it instead of
 * the sorted folder names; classes it names that have no folder are kept (with no samples), folders it
 * does not name are an error.
 */
export function listImageFolder(root: string, classOrder?: readonly string[]): ImageFolderListing {
  if (!isDirectory(root)) throw new DataError('image folder does not exist or is not a directory', root);
  const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const folders = readdirSync(root)
    .filter((name) => !name.startsWith('.') && isDirectory(join(root, name)))
    .sort(byCodePoint);
  if (folders.length === 0) throw new DataError('no class sub-folders found', root, 'put the images of each class into their own sub-folder (ImageNet layout)');
  const classes = classOrder === undefined ? folders : [...classOrder];
  const labelOf = new Map(classes.map((name, label) => [name, label]));
  const unnamed = folders.filter((name) => !labelOf.has(name));
  if (unnamed.length > 0) {
    throw new DataError(
      `${unnamed.length} class folder(s) are not in the class list: ${unnamed.slice(0, 5).join(', ')}${unnamed.length > 5 ? ' …' : ''}`,
      root,
      'the class list must name every class folder, in the order of the model\'s outputs',
    );
  }
  const files: string[] = [];
  const labels: number[] = [];
  for (const name of [...folders].sort((a, b) => labelOf.get(a)! - labelOf.get(b)!)) {
    const dir = join(root, name);
    const images = readdirSync(dir)
      .filter((f) => !f.startsWith('.') && IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
      .sort(byCodePoint);
    if (images.length === 0) throw new DataError('class folder holds no .jpg/.jpeg/.png images', dir, 'remove the empty folder or add its images');
    for (const image of images) {
      files.push(join(dir, image));
      labels.push(labelOf.get(name)!);
    }
  }
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

/** Decodes and transforms image files; loads may overlap (the resize after each decode is synchronous, so its buffers are shared). */
export class ImageTransformer {
  readonly #resampler = new Resampler();

  constructor(readonly transform: ImageTransform) {
    checkTransform(transform);
  }

  get sampleShape(): number[] {
    return [this.transform.channels, this.transform.size, this.transform.size];
  }

  /** Reads `file` and writes its transformed pixels (C×size×size bytes, planar) into `out`. */
  async load(file: string, out: Uint8Array): Promise<void> {
    const {channels, interpolation} = this.transform;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (error) {
      throw new DataError(`cannot read image: ${(error as Error).message}`, file);
    }
    // Only the pixels the crop's resize reads are decoded out (about half of a 500×375 image's bytes).
    const windowOf = (width: number, height: number) => {
      const {outWidth, outHeight, crop} = evalGeometry(width, height, this.transform);
      return this.#resampler.sourceWindow(width, height, outWidth, outHeight, crop, interpolation);
    };
    const image = await decodeImage(bytes, file, channels, windowOf);
    const geometry = evalGeometry(image.width, image.height, this.transform);
    this.#resampler.resizeCrop(image, channels, geometry.outWidth, geometry.outHeight, geometry.crop, interpolation, out);
  }
}

export interface ImageFolderOptions {
  /** Images decoded at once (sharp decodes in its own threads); default 1. */
  concurrency?: number;
  /** uint8 (default): pixel bytes, normalised when read; float32: normalised floats, 4× the disk. */
  dtype?: SampleDtype;
  /** The model's class order (folder names); default the sorted folder names. */
  classOrder?: readonly string[];
}

export function imageFolderSource(root: string, transform: ImageTransform = TIMM_EVAL_TRANSFORM, opts: ImageFolderOptions = {}): SampleSource {
  const transformer = new ImageTransformer(transform);
  const listing = listImageFolder(root, opts.classOrder);
  const {size} = transform;
  const sampleShape = transformer.sampleShape;
  const norm = normalizer(sampleShape, {scale: 1 / 255, mean: transform.mean, std: transform.std});
  const dtype = opts.dtype ?? 'uint8';
  const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
  return {
    sampleShape,
    dtype,
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
    concurrency: Math.max(1, Math.floor(opts.concurrency ?? 1)),
    async read(index, out) {
      const file = listing.files[index]!;
      if (out instanceof Uint8Array) return transformer.load(file, out);
      const pixels = new Uint8Array(sampleSize);
      await transformer.load(file, pixels);
      out.set(pixels);
      norm.apply(out);
    },
  };
}
