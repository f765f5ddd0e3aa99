import {keyContext, NO_TASKS} from '../../test/support/step-context.js';
import {copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import {PNG} from 'pngjs';
import {afterAll, describe, expect, it} from 'vitest';
import {openDataset} from '../data/dataset-reader.js';
import {StepError, type StepContext} from '../engine/step-kind.js';
import {loadDatasetKind, type DatasetInfo, type LoadDatasetParams} from './load-dataset.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/data/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'axx-load-dataset-'));
afterAll(() => rmSync(work, {recursive: true, force: true}));

const validate = new Ajv2020.default({strict: false, useDefaults: true}).compile(loadDatasetKind.schema);

/** Params as the engine passes them: validated, with schema defaults filled in. */
function params(given: Record<string, unknown>): LoadDatasetParams {
  const copy = structuredClone(given);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as unknown as LoadDatasetParams;
}

let runs = 0;
function context(p: LoadDatasetParams): StepContext<LoadDatasetParams> & {progress: ReturnType<typeof progressLog>} {
  const progress = progressLog();
  return {
    params: p,
    scratchDir: mkdtempSync(join(work, `scratch-${runs++}-`)),
    progress,
    log: () => {},
    metric: () => {},
    checkpoint: {save: async () => {}, load: async () => undefined, discard: async () => undefined},
    signal: new AbortController().signal,
    hostEnvironment: {},
    resources: {cpu: 1},
    tasks: NO_TASKS,
  };
}

function progressLog() {
  const calls: [number, number | undefined][] = [];
  return Object.assign((done: number, total?: number) => void calls.push([done, total]), {calls});
}

async function failure(p: LoadDatasetParams): Promise<StepError> {
  const error = await loadDatasetKind.run(context(p)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StepError);
  return error as StepError;
}

function pngFile(file: string, shade: number): void {
  const image = new PNG({width: 3, height: 3});
  image.data.fill(shade);
  mkdirSync(join(file, '..'), {recursive: true});
  writeFileSync(file, PNG.sync.write(image));
}

describe('load/dataset', () => {
  it('stores a stratified MNIST subset and reports progress to completion', async () => {
    const ctx = context(params({source: 'mnist', split: 'train', limit: 200, seed: 1}));
    const out = await loadDatasetKind.run(ctx);
    const dataset = openDataset((out.dataset as {dir: string}).dir);
    const info = (out.info as unknown as {value: DatasetInfo}).value;
    expect(info).toMatchObject({count: 200, sampleShape: [1, 28, 28], preprocessing: '(x/255 - 0.1307)/0.3081'});
    expect(info.labelCounts).toEqual(dataset.manifest.labelCounts);
    expect(Math.max(...info.labelCounts) - Math.min(...info.labelCounts)).toBeLessThanOrEqual(6);
    expect(ctx.progress.calls.at(-1)).toEqual([200, 200]);
    expect(dataset.manifest.origin).toMatchObject({source: 'mnist', split: 'train', sourceCount: 60000, subset: {limit: 200, seed: 1, order: 'stratified'}});
    expect(info.subset).toMatchObject({order: 'stratified', seed: 1, offset: 0, limit: 200, count: 200, missingClasses: []});
  });

  it('takes limit from every class of a class-ordered image folder; order file takes the first and warns', async () => {
    const root = join(work, 'ordered');
    for (let c = 0; c < 5; c++) for (let i = 0; i < 4; i++) pngFile(join(root, `class${c}`, `${i}.png`), 40 * c + i);
    const ctx = context(params({source: 'image-folder', path: root, limit: 10, transform: {size: 2, cropPct: 1, channels: 1, mean: 0, std: 1}}));
    const info = ((await loadDatasetKind.run(ctx)).info as unknown as {value: DatasetInfo}).value;
    expect(info.labelCounts, JSON.stringify(info)).toEqual([2, 2, 2, 2, 2]);
    expect(info.subset, JSON.stringify(info)).toMatchObject({order: 'stratified', seed: 0, count: 10, missingClasses: []});

    const logged: string[] = [];
    const first = context(params({source: 'image-folder', path: root, limit: 10, order: 'file', transform: {size: 2, cropPct: 1, channels: 1, mean: 0, std: 1}}));
    first.log = (text) => void logged.push(text);
    const firstInfo = ((await loadDatasetKind.run(first)).info as unknown as {value: DatasetInfo}).value;
    expect(firstInfo.labelCounts).toEqual([4, 4, 2, 0, 0]);
    expect(firstInfo.warnings).toEqual([expect.stringContaining('has no sample of 2 of 5 classes (class3, class4)')]);
    expect(logged).toContain(`warning: ${firstInfo.warnings[0]}`);
  });

  it('reads an image folder split from <path>/val with transform overrides, keyed by content not location', async () => {
    for (const root of ['a', 'b']) {
      pngFile(join(work, root, 'val', 'cat', '1.png'), 200);
      pngFile(join(work, root, 'val', 'dog', '1.png'), 10);
    }
    const p = (root: string) => params({source: 'image-folder', path: join(work, root), transform: {size: 2, cropPct: 1, channels: 1, mean: 0, std: 1}});
    const out = await loadDatasetKind.run(context(p('a')));
    const [batch] = [...openDataset((out.dataset as {dir: string}).dir).batches(2)];
    expect([...batch!.y]).toEqual([0, 1]);
    expect(batch!.x[0]).toBeCloseTo(200 / 255, 6);
    expect(batch!.x[4]).toBeCloseTo(10 / 255, 6);

    const key = (root: string) => loadDatasetKind.keyExtras!(p(root), keyContext);
    expect(await key('a')).toEqual(await key('b'));
    pngFile(join(work, 'b', 'val', 'dog', '1.png'), 11);
    expect(await key('a')).not.toEqual(await key('b'));
  });

  it('labels image folders in the order of a class list file, and keys on it', async () => {
    pngFile(join(work, 'ordered', 'val', 'n02', '1.png'), 200);
    pngFile(join(work, 'ordered', 'val', 'n01', '1.png'), 10);
    const keras = join(work, 'imagenet_class_index.json');
    writeFileSync(keras, JSON.stringify({0: ['n02', 'second folder'], 1: ['n01', 'first folder']}));
    const lines = join(work, 'synsets.txt');
    writeFileSync(lines, 'n02\nn01\n');
    const p = (classFile: string) => params({source: 'image-folder', path: join(work, 'ordered'), classFile, transform: {size: 2, cropPct: 1, channels: 1, mean: 0, std: 1}});
    for (const file of [keras, lines]) {
      const out = await loadDatasetKind.run(context(p(file)));
      expect((out.info as unknown as {value: DatasetInfo}).value.classes).toEqual(['n02', 'n01']);
      const [batch] = [...openDataset((out.dataset as {dir: string}).dir).batches(2)];
      // Files are listed in label order: n02's (label 0, shade 200) first.
      expect([...batch!.y]).toEqual([0, 1]);
      expect(batch!.x[0]).toBeCloseTo(200 / 255, 6);
    }
    expect(await loadDatasetKind.keyExtras!(p(keras), keyContext)).toEqual(await loadDatasetKind.keyExtras!(p(lines), keyContext));
    writeFileSync(lines, 'n01\nn02\n');
    expect(await loadDatasetKind.keyExtras!(p(keras), keyContext)).not.toEqual(await loadDatasetKind.keyExtras!(p(lines), keyContext));
    writeFileSync(lines, 'n01\n');
    expect(await failure(p(lines))).toMatchObject({param: 'with.path', message: `${join(work, 'ordered', 'val')}: 1 class folder(s) are not in the class list: n02`});
    writeFileSync(lines, 'n01\nn01\n');
    expect(await failure(p(lines))).toMatchObject({param: 'with.classFile', message: `${lines}: class "n01" appears twice`});
  });

  it('says which split folder is missing instead of reading train/ and val/ as classes', async () => {
    pngFile(join(work, 'train-only', 'train', 'cat', '1.png'), 1);
    const missing = await failure(params({source: 'image-folder', path: join(work, 'train-only')}));
    expect(missing).toMatchObject({param: 'with.path', message: `${join(work, 'train-only')} has train/ but no val/ or test/ folder for split "test"`});
    expect(missing.hint).toContain(join(work, 'train-only', 'val'));
  });

  it("checks the model's input shape before decoding a single image", async () => {
    pngFile(join(work, 'sized', 'val', 'cat', '1.png'), 1);
    const modelInfo = {inputs: [{name: 'input', shape: ['N', 3, 224, 224]}]};
    const ctx = context(params({source: 'image-folder', path: join(work, 'sized'), modelInfo, transform: {size: 256}}));
    const error = await loadDatasetKind.run(ctx).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({param: 'with.transform', message: 'model input "input" has shape [N, 3, 224, 224] but dataset samples are [3, 256, 256] (plus a batch dimension)'});
    expect(ctx.progress.calls).toEqual([]);
    const fits = await loadDatasetKind.run(context(params({source: 'image-folder', path: join(work, 'sized'), modelInfo, transform: {size: 224}})));
    expect((fits.info as unknown as {value: DatasetInfo}).value.sampleShape).toEqual([3, 224, 224]);
  });

  it('keys tensor and IDX files by content and base name, not by the directory they sit in', async () => {
    const copies = ['c', 'd'].map((name) => {
      mkdirSync(join(work, name), {recursive: true});
      for (const file of ['x.npy', 'labels.npy']) copyFileSync(join(fixtures, file), join(work, name, file));
      return params({source: 'npy', path: join(work, name, 'x.npy'), labels: join(work, name, 'labels.npy')});
    });
    expect(await loadDatasetKind.keyExtras!(copies[0]!, keyContext)).toEqual(await loadDatasetKind.keyExtras!(copies[1]!, keyContext));
  });

  it('reads NPZ tensors with named arrays and classes', async () => {
    const out = await loadDatasetKind.run(
      context(params({source: 'npz', path: join(fixtures, 'arrays-compressed.npz'), keys: {x: 'images', y: 'labels'}, classes: ['w', 'x', 'y', 'z'], limit: 4})),
    );
    expect((out.info as unknown as {value: DatasetInfo}).value).toMatchObject({count: 4, classes: ['w', 'x', 'y', 'z'], labelCounts: [1, 1, 1, 1]});
  });

  it('fails with the parameter and file at fault', async () => {
    expect((await failure(params({source: 'npy', path: join(fixtures, 'x.npy')}))).param).toBe('with.labels');
    expect((await failure(params({source: 'image-folder'}))).param).toBe('with.path');
    const missing = await failure(params({source: 'mnist', path: join(work, 'nowhere')}));
    expect(missing).toMatchObject({param: 'with.path', message: `${join(work, 'nowhere')}: mnist directory does not exist`});
    const wrongTransform = await failure(params({source: 'mnist', transform: {size: 10}}));
    expect(wrongTransform).toMatchObject({param: 'with.transform', message: 'transform field size does not apply to source mnist'});
    const empty = join(work, 'empty-class');
    pngFile(join(empty, 'a', '1.png'), 0);
    mkdirSync(join(empty, 'b'));
    expect((await failure(params({source: 'image-folder', path: empty}))).message).toBe(`${join(empty, 'b')}: class folder holds no .jpg/.jpeg/.png images`);
    expect(await failure(params({source: 'mnist', dtype: 'uint8'}))).toMatchObject({param: 'with.dtype', message: 'with.dtype applies to source image-folder only'});
    expect(validate({source: 'cifar'})).toBe(false);
    expect(validate({source: 'mnist', limit: -1})).toBe(false);
  });
});
