// Step kind "load/dataset": decodes a dataset once (MNIST, Fashion-MNIST, an image folder, NPY/NPZ
// tensors), takes a deterministic subset, and stores the samples as a sharded dataset directory
// that evaluate/train/calibrate stream from: preprocessed float32, or for image folders by default
// the cropped pixel bytes (uint8), normalised when read.
import {createHash} from 'node:crypto';
import {existsSync, readdirSync, statSync} from 'node:fs';
import {basename, join, relative, resolve} from 'node:path';
import {StepError, type Json, type StepKind} from '../engine/step-kind.js';
import {readClassOrder} from '../data/class-order.js';
import {DataError} from '../data/data-error.js';
import {idxFiles, idxSource, type IdxDatasetName, type Split} from '../data/idx-source.js';
import {inputShapeMismatch} from '../data/input-expectation.js';
import {imageFolderSource, listImageFolder, TIMM_EVAL_TRANSFORM, type ImageTransform} from '../data/image-folder.js';
import type {Interpolation} from '../data/resample.js';
import type {SampleDtype, SampleSource} from '../data/sample-source.js';
import {tensorSource, type TensorFiles} from '../data/tensor-source.js';
import {missingClassesWarning, type SubsetRecord} from '../data/subset.js';
import {writeSubset} from '../data/write-subset.js';
import {subsetOptions, subsetParamSchema, type SubsetParams} from './shared/subset-params.js';

type Channelwise = number | number[];

export interface LoadDatasetParams extends SubsetParams {
  source: IdxDatasetName | 'image-folder' | 'npy' | 'npz';
  /** IDX directory (mnist/fashion-mnist, optional), image folder root, .npy samples, or .npz archive. */
  path?: string;
  /** npy: the labels .npy file. */
  labels?: string;
  /** npz: array names of samples and labels. */
  keys: {x: string; y: string};
  /** npy/npz: class names; image-folder: the class folders in the model's label order. */
  classes?: string[];
  /** image-folder: a file giving the class folders in the model's label order (data/class-order.ts). */
  classFile?: string;
  /** image-folder: how samples are stored (default uint8: pixel bytes, normalised when read). */
  dtype?: SampleDtype;
  /** A load/model info value: its input shape is checked against the samples before anything is decoded. */
  modelInfo?: {inputs: {name: string; shape: (number | string | null)[] | null}[]};
  split: Split;
  transform?: {
    size?: number;
    cropPct?: number;
    interpolation?: Interpolation;
    channels?: 1 | 3;
    scale?: number;
    mean?: Channelwise;
    std?: Channelwise;
  };
}

const channelwise = {anyOf: [{type: 'number'}, {type: 'array', items: {type: 'number'}, minItems: 1}]};

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['source'],
  properties: {
    source: {enum: ['mnist', 'fashion-mnist', 'image-folder', 'npy', 'npz']},
    path: {type: 'string', minLength: 1, description: 'IDX directory (optional for mnist/fashion-mnist), image folder root, .npy samples or .npz archive.'},
    labels: {type: 'string', minLength: 1, description: 'npy: the labels file (integers, shape [N]).'},
    keys: {
      type: 'object',
      additionalProperties: false,
      properties: {x: {type: 'string', default: 'x'}, y: {type: 'string', default: 'y'}},
      default: {x: 'x', y: 'y'},
      description: 'npz: names of the sample and label arrays.',
    },
    classes: {
      type: 'array',
      items: {type: 'string'},
      description: "npy/npz: class names, label i → classes[i]. image-folder: the class folder names in the order of the model's outputs (default: sorted folder names).",
    },
    classFile: {
      type: 'string',
      minLength: 1,
      description: 'image-folder: a class list file in the model\'s label order: one folder name per line, a JSON list, {"folder": index} or {"index": ["folder", "name"]} (Keras imagenet_class_index.json).',
    },
    modelInfo: {
      type: 'object',
      'x-axx-input': {type: 'value', format: 'model-info'},
      description: 'The info output of load/model: the model input shape is checked against the transform before a single image is decoded.',
    },
    dtype: {enum: ['uint8', 'float32'], description: 'image-folder: uint8 (default) stores pixel bytes and normalises when read (a quarter of the disk); float32 stores normalised floats.'},
    split: {
      enum: ['train', 'test'],
      default: 'test',
      description: 'mnist/fashion-mnist: which IDX pair; image-folder: uses <path>/<split> (or <path>/val for test) when that folder exists.',
    },
    ...subsetParamSchema(),
    transform: {
      type: 'object',
      additionalProperties: false,
      description: 'Preprocessing. mnist/fashion-mnist: (x/255 - mean)/std, defaults 0.1307/0.3081 and 0.286/0.353. image-folder: timm eval (size 224, cropPct 0.875, bicubic, ImageNet mean/std, 3 channels). npy/npz: x·scale then mean/std, default none.',
      properties: {
        size: {type: 'integer', minimum: 1},
        cropPct: {type: 'number', exclusiveMinimum: 0, maximum: 1},
        interpolation: {enum: ['bicubic', 'bilinear']},
        channels: {enum: [1, 3]},
        scale: {type: 'number'},
        mean: channelwise,
        std: channelwise,
      },
    },
  },
};

const list = (v: Channelwise | undefined): number[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

function requirePath(params: LoadDatasetParams, what: string): string {
  if (params.path === undefined) throw new StepError(`source ${params.source} needs with.path (${what})`, undefined, 'with.path');
  return resolve(params.path);
}

const SPLIT_FOLDERS = {train: ['train'], test: ['val', 'test']} as const;

/**
 * image-folder: `<path>/<split>` (`val` or `test` for the test split). A root that holds no split folder
 * at all is itself the class folders; one that holds some split but not the asked one is an error,
 * not a silent fallback to the root (whose "classes" would be train/ and val/).
 */
function imageRoot(params: LoadDatasetParams): string {
  const root = requirePath(params, 'the folder with one sub-folder per class');
  const isDir = (dir: string) => existsSync(dir) && statSync(dir).isDirectory();
  const wanted = SPLIT_FOLDERS[params.split];
  for (const name of wanted) if (isDir(join(root, name))) return join(root, name);
  const present = isDir(root) ? readdirSync(root).filter((name) => [...SPLIT_FOLDERS.train, ...SPLIT_FOLDERS.test].includes(name as never) && isDir(join(root, name))) : [];
  if (present.length > 0) {
    throw new StepError(
      `${root} has ${present.map((p) => `${p}/`).join(' and ')} but no ${wanted.map((w) => `${w}/`).join(' or ')} folder for split "${params.split}"`,
      `add ${join(root, wanted[0])}/<class>/<images>, or set with.split to ${params.split === 'test' ? 'train' : 'test'}`,
      'with.path',
    );
  }
  return root;
}

/** image-folder: the model's class order, from with.classes or with.classFile. */
function classOrder(params: LoadDatasetParams): string[] | undefined {
  if (params.classes !== undefined && params.classFile !== undefined) {
    throw new StepError('give either with.classes or with.classFile, not both', 'both set the class order; keep one', 'with.classFile');
  }
  if (params.classFile === undefined) return params.classes;
  try {
    return readClassOrder(resolve(params.classFile));
  } catch (error) {
    if (error instanceof DataError) throw new StepError(error.message, error.hint, 'with.classFile');
    throw error;
  }
}

function tensorFiles(params: LoadDatasetParams): TensorFiles {
  if (params.source === 'npz') return {kind: 'npz', file: requirePath(params, 'an .npz archive'), xKey: params.keys.x, yKey: params.keys.y};
  const x = requirePath(params, 'the samples .npy file');
  if (params.labels === undefined) throw new StepError('source npy needs with.labels (the labels .npy file)', undefined, 'with.labels');
  return {kind: 'npy', x, labels: resolve(params.labels)};
}

function checkTransformFields(params: LoadDatasetParams, allowed: string[]): void {
  const extra = Object.keys(params.transform ?? {}).filter((k) => !allowed.includes(k));
  if (extra.length > 0) {
    throw new StepError(`transform field ${extra.join(', ')} does not apply to source ${params.source}`, `${params.source} takes: ${allowed.join(', ')}`, 'with.transform');
  }
}

/** `cpus`: the step's cpu grant; image folders decode that many images at once, in sharp's threads. */
function openSource(params: LoadDatasetParams, cpus: number): SampleSource {
  const t = params.transform ?? {};
  for (const field of ['classFile', 'dtype'] as const) {
    if (params[field] !== undefined && params.source !== 'image-folder') throw new StepError(`with.${field} applies to source image-folder only`, undefined, `with.${field}`);
  }
  switch (params.source) {
    case 'mnist':
    case 'fashion-mnist': {
      checkTransformFields(params, ['mean', 'std']);
      const [mean, std] = [list(t.mean), list(t.std)];
      if ((mean?.length ?? 1) !== 1 || (std?.length ?? 1) !== 1) throw new StepError('mean/std take one value for single-channel images', undefined, 'with.transform');
      return idxSource({dataset: params.source, split: params.split, dir: params.path && resolve(params.path), mean: mean?.[0], std: std?.[0]});
    }
    case 'image-folder': {
      checkTransformFields(params, ['size', 'cropPct', 'interpolation', 'channels', 'mean', 'std']);
      const order = classOrder(params);
      const channels = t.channels ?? TIMM_EVAL_TRANSFORM.channels;
      const fallbackMean = channels === 3 ? TIMM_EVAL_TRANSFORM.mean : [0.5];
      const fallbackStd = channels === 3 ? TIMM_EVAL_TRANSFORM.std : [0.5];
      const transform: ImageTransform = {
        size: t.size ?? TIMM_EVAL_TRANSFORM.size,
        cropPct: t.cropPct ?? TIMM_EVAL_TRANSFORM.cropPct,
        interpolation: t.interpolation ?? TIMM_EVAL_TRANSFORM.interpolation,
        channels,
        mean: list(t.mean) ?? fallbackMean,
        std: list(t.std) ?? fallbackStd,
      };
      return imageFolderSource(imageRoot(params), transform, {concurrency: cpus, dtype: params.dtype, ...(order !== undefined ? {classOrder: order} : {})});
    }
    case 'npy':
    case 'npz':
      checkTransformFields(params, ['scale', 'mean', 'std']);
      return tensorSource({files: tensorFiles(params), classes: params.classes, normalization: {scale: t.scale, mean: list(t.mean), std: list(t.std)}});
  }
}

/** The files whose content the dataset derives from, and the root their names are taken relative to. */
function inputFiles(params: LoadDatasetParams): {files: string[]; root?: string} {
  switch (params.source) {
    case 'mnist':
    case 'fashion-mnist': {
      const {images, labels} = idxFiles({dataset: params.source, split: params.split, dir: params.path && resolve(params.path)});
      return {files: [images, labels]};
    }
    case 'image-folder': {
      const root = imageRoot(params);
      return {files: listImageFolder(root, classOrder(params)).files, root};
    }
    case 'npy':
    case 'npz': {
      const files = tensorFiles(params);
      return {files: files.kind === 'npy' ? [files.x, files.labels] : [files.file]};
    }
  }
}

/** DataError (a library's expected failure) → StepError pointing at the parameter. */
function asStepError(error: unknown, params: LoadDatasetParams): unknown {
  if (!(error instanceof DataError)) return error;
  return new StepError(error.message, error.hint, params.path !== undefined ? 'with.path' : 'with.source');
}

/** Fails before decoding when the model named by with.modelInfo cannot take these samples. */
function checkModelInput(params: LoadDatasetParams, sampleShape: readonly number[]): void {
  const inputs = params.modelInfo?.inputs ?? [];
  if (inputs.length !== 1 || inputs[0]!.shape === null) return;
  const mismatch = inputShapeMismatch(inputs[0]!.shape, sampleShape, inputs[0]!.name);
  if (mismatch === undefined) return;
  throw new StepError(mismatch, 'set with.transform (size, channels) to what the model takes (timm: pretrained_cfg input_size), or load the model the data is for', 'with.transform');
}

export interface DatasetInfo {
  count: number;
  sampleShape: number[];
  classes: string[];
  labelCounts: number[];
  preprocessing: string;
  /** How the samples were chosen from the source, and which classes the subset leaves out. */
  subset: SubsetRecord;
  /** Samples in the source before the subset. */
  sourceCount: number;
  warnings: string[];
}

export const loadDatasetKind: StepKind<LoadDatasetParams> = {
  name: 'load/dataset',
  version: 2,
  description: 'Decode MNIST, Fashion-MNIST, an image folder (as many images at once as cpu resources granted) or NPY/NPZ tensors once, take a seeded stratified subset (or the first samples), store uint8 pixel shards (image folders) or preprocessed float32 shards',
  schema,
  outputs: {
    dataset: {type: 'dir', format: 'dataset', description: 'manifest.json + uint8 or float32 sample / int32 label shards (src/data/manifest.ts)'},
    info: {type: 'value', format: 'dataset-info', description: 'count, sample shape, classes, samples per class, preprocessing, the subset (order, seed, classes left out), warnings'},
  },
  async keyExtras(params, key): Promise<Json> {
    // The content of every input file (names relative to the folder for image folders, else base names), not
    // paths or times: a moved checkout or a second clone keeps its keys.
    try {
      const {files, root} = inputFiles(params);
      const hash = createHash('sha256');
      for (const file of files) hash.update(`${root === undefined ? basename(file) : relative(root, file)}\0${(await key.digest(file)).digest}\n`);
      return {files: files.length, digest: hash.digest('hex'), ...(params.classFile !== undefined ? {classOrder: classOrder(params) ?? []} : {})};
    } catch (error) {
      // Missing inputs fail in run() with a precise message; the attempt is keyed by what is known.
      return {missing: error instanceof Error ? error.message : String(error)};
    }
  },
  async run(ctx) {
    const {params} = ctx;
    try {
      const source = openSource(params, Math.max(1, Math.floor(ctx.resources.cpu ?? 1)));
      checkModelInput(params, source.sampleShape);
      ctx.log(`${params.source}: ${source.labels.length} samples of [${source.sampleShape.join(', ')}], ${source.classes.length} classes; ${source.preprocessing.description}`);
      const dir = join(ctx.scratchDir, 'dataset');
      let reported = 0;
      const manifest = await writeSubset(
        dir,
        source,
        subsetOptions(params),
        {
          onProgress(done, total) {
            if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('aborted');
            // About a hundred progress events per step, whatever the size.
            if (done === total || done - reported >= Math.max(1, Math.floor(total / 100))) {
              reported = done;
              ctx.progress(done, total, 'sample');
            }
          },
        },
      );
      const warning = missingClassesWarning(manifest.origin.subset, manifest.classes);
      if (warning !== undefined) ctx.log(`warning: ${warning}`, 'stderr');
      const info: DatasetInfo = {
        count: manifest.count,
        sampleShape: manifest.sampleShape,
        classes: manifest.classes,
        labelCounts: manifest.labelCounts,
        preprocessing: manifest.preprocessing.description,
        subset: manifest.origin.subset,
        sourceCount: source.labels.length,
        warnings: warning === undefined ? [] : [warning],
      };
      return {dataset: {dir}, info: {value: info as unknown as Json}};
    } catch (error) {
      throw asStepError(error, params);
    }
  },
};
