import {copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import jpeg from 'jpeg-js';
import {PNG} from 'pngjs';
import {afterAll, describe, expect, it} from 'vitest';
import {openDataset} from './dataset-reader.js';
import {evalGeometry, imageFolderSource, TIMM_EVAL_TRANSFORM, type ImageTransform} from './image-folder.js';
import {fileBytes, openNpy} from './npy.js';
import {writeSubset} from './write-subset.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/data/resample/', import.meta.url));
const temp = mkdtempSync(join(tmpdir(), 'axx-img-'));
afterAll(() => rmSync(temp, {recursive: true, force: true}));

function pillowReference(name: string): {shape: number[]; values: number[]} {
  const file = join(fixtures, `${name}.npy`);
  const array = openNpy(fileBytes(file, 0, statSync(file).size), file);
  const values = new Float64Array(array.shape.reduce((a, b) => a * b, 1));
  array.readElements(0, values);
  array.close();
  return {shape: array.shape, values: [...values]};
}

function png(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const image = new PNG({width, height});
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      image.data.set([r, g, b, 255], 4 * (y * width + x));
    }
  }
  return PNG.sync.write(image);
}

function folder(name: string, files: Record<string, Uint8Array>): string {
  const root = join(temp, name);
  for (const [path, bytes] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), {recursive: true});
    writeFileSync(join(root, path), bytes);
  }
  return root;
}

const raw = (t: Partial<ImageTransform>): ImageTransform => ({...TIMM_EVAL_TRANSFORM, mean: [0], std: [1], ...t});

describe('image folder with timm eval transform', () => {
  it('follows torchvision Resize(shorter side) + CenterCrop geometry, rounding halves to even', () => {
    expect(evalGeometry(500, 375, {size: 224, cropPct: 0.875})).toEqual({outWidth: 341, outHeight: 256, crop: {left: 58, top: 16, width: 224, height: 224}});
    // (27 - 16)/2 = 5.5 → 6 (even); (25 - 16)/2 = 4.5 → 4.
    expect(evalGeometry(18, 27, {size: 16, cropPct: 0.875}).crop.top).toBe(6);
    expect(evalGeometry(18, 25, {size: 16, cropPct: 0.875}).crop.top).toBe(4);
  });

  it.each([
    ['bicubic-down', {size: 16, cropPct: 0.875, interpolation: 'bicubic', channels: 3}],
    ['bilinear-down', {size: 16, cropPct: 0.875, interpolation: 'bilinear', channels: 3}],
    ['bicubic-up', {size: 40, cropPct: 0.9, interpolation: 'bicubic', channels: 3}],
    ['gray-bicubic-down', {size: 9, cropPct: 0.875, interpolation: 'bicubic', channels: 1}],
  ] as const)('reproduces Pillow exactly: %s', async (name, transform) => {
    const root = join(temp, `pillow-${name}`);
    mkdirSync(join(root, 'only'), {recursive: true});
    copyFileSync(join(fixtures, 'input.png'), join(root, 'only', 'input.png'));
    const source = imageFolderSource(root, raw(transform));
    expect(source.dtype).toBe('uint8');
    const out = new Uint8Array(source.sampleShape.reduce((a, b) => a * b, 1));
    await source.read(0, out);
    const reference = pillowReference(name);
    const [height, width, channels] = reference.shape as [number, number, number];
    expect(source.sampleShape).toEqual([channels, height, width]);
    // Reference is HWC; ours is CHW.
    const ours = reference.values.map((_, i) => {
      const c = i % channels;
      const pixel = (i - c) / channels;
      return out[c * height * width + pixel]!;
    });
    expect(ours).toEqual(reference.values);
  });

  it('lists sorted classes and files, decodes PNG and JPEG, normalises with mean/std when read (uint8) or written (float32) alike', async () => {
    const red = png(6, 4, () => [255, 0, 0]);
    const blueJpeg = jpeg.encode({width: 8, height: 8, data: Buffer.alloc(8 * 8 * 4, Uint8Array.from([0, 0, 255, 255]))}, 100).data;
    const root = folder('mixed', {'b-cls/2.png': red, 'b-cls/1.JPG': blueJpeg, 'a-cls/x.png': red, 'a-cls/notes.txt': Buffer.from('ignored')});
    const source = imageFolderSource(root, {...TIMM_EVAL_TRANSFORM, size: 4, cropPct: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]});
    expect(source.classes).toEqual(['a-cls', 'b-cls']);
    expect([...source.labels]).toEqual([0, 1, 1]);
    const dir = join(temp, 'mixed-ds');
    const manifest = await writeSubset(dir, source, {});
    expect(manifest.labelCounts).toEqual([1, 2]);
    expect(manifest.sampleShape).toEqual([3, 4, 4]);
    const [batch] = [...openDataset(dir).batches(3)];
    const channelMeans = [0, 1, 2].map((sample) => [0, 1, 2].map((c) => batch!.x[sample * 48 + c * 16 + 5]!));
    // Red → (1-0.5)/0.5 = 1 in R, -1 elsewhere; the JPEG's blue survives decoding within a step or two.
    expect(channelMeans[0]).toEqual([1, -1, -1]);
    expect(channelMeans[2]).toEqual([1, -1, -1]);
    channelMeans[1]!.forEach((v, c) => expect(v).toBeCloseTo(c === 2 ? 1 : -1, 1));
    // Pixel bytes on disk: a quarter of float32's size, and the same floats once read.
    const floatDir = join(temp, 'mixed-ds-float');
    const floatManifest = await writeSubset(floatDir, imageFolderSource(root, {...TIMM_EVAL_TRANSFORM, size: 4, cropPct: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]}, {dtype: 'float32'}), {});
    expect([manifest.dtype, floatManifest.dtype]).toEqual(['uint8', 'float32']);
    expect(statSync(join(dir, manifest.shards[0]!.file)).size).toBe(3 * 48 + 3 * 4);
    expect(statSync(join(floatDir, floatManifest.shards[0]!.file)).size).toBe(3 * 48 * 4 + 3 * 4);
    const [floats] = [...openDataset(floatDir).batches(3)];
    expect(floats!.x).toEqual(batch!.x);
  });

  it('takes the class order from a list: labels follow the model, not the sorted folder names', async () => {
    const root = folder('ordered', {'zebra/1.png': png(4, 4, () => [0, 0, 0]), 'apple/1.png': png(4, 4, () => [255, 255, 255])});
    const source = imageFolderSource(root, raw({size: 2, cropPct: 1}), {classOrder: ['zebra', 'apple', 'unused']});
    expect(source.classes).toEqual(['zebra', 'apple', 'unused']);
    expect([...source.labels]).toEqual([0, 1]);
    const out = new Uint8Array(12);
    await source.read(1, out);
    expect(out[0]).toBe(255); // file 1 is apple's, listed second
    expect(() => imageFolderSource(root, raw({size: 2, cropPct: 1}), {classOrder: ['zebra']})).toThrow(`${root}: 1 class folder(s) are not in the class list: apple`);
  });

  it('names the folder or file at fault', async () => {
    expect(() => imageFolderSource(join(temp, 'absent'))).toThrow(`${join(temp, 'absent')}: image folder does not exist or is not a directory`);
    const flat = folder('flat', {'x.png': png(2, 2, () => [0, 0, 0])});
    expect(() => imageFolderSource(flat)).toThrow(`${flat}: no class sub-folders found`);
    const empty = folder('empty', {'a/x.png': png(2, 2, () => [0, 0, 0]), 'b/readme.md': Buffer.from('')});
    expect(() => imageFolderSource(empty)).toThrow(`${join(empty, 'b')}: class folder holds no .jpg/.jpeg/.png images`);
    const broken = folder('broken', {'a/x.png': Buffer.from('GIF89a not really')});
    const source = imageFolderSource(broken, raw({size: 2, cropPct: 1}));
    await expect(source.read(0, new Uint8Array(12))).rejects.toThrow(`${join(broken, 'a', 'x.png')}: not a JPEG or PNG image (unknown magic bytes)`);
    const truncated = folder('truncated', {'a/x.png': png(4, 4, () => [1, 2, 3]).subarray(0, 40)});
    await expect(imageFolderSource(truncated, raw({size: 2, cropPct: 1})).read(0, new Uint8Array(12))).rejects.toThrow(/x\.png: cannot decode PNG/);
    expect(() => imageFolderSource(truncated, raw({cropPct: 1.5}))).toThrow(/cropPct must be in \(0, 1\]/);
  });
});

describe('image folder decoded several at a time', () => {
  it('gives bit-identical samples, in order, and names a broken file', async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 7; i++) files[`c${i % 2}/${i}.png`] = png(9 + i, 7, (x, y) => [(x * 30 + i) % 256, (y * 40) % 256, (i * 50) % 256]);
    const root = folder('workers', files);
    const transform = raw({size: 5, cropPct: 0.9});
    const single = await writeSubset(join(temp, 'single-ds'), imageFolderSource(root, transform), {});
    const pooled = await writeSubset(join(temp, 'pooled-ds'), imageFolderSource(root, transform, {concurrency: 3}), {});
    expect(pooled.labelCounts).toEqual(single.labelCounts);
    const [a] = [...openDataset(join(temp, 'single-ds')).batches(7)];
    const [b] = [...openDataset(join(temp, 'pooled-ds')).batches(7)];
    expect(b!.x).toEqual(a!.x);
    expect(b!.y).toEqual(a!.y);

    writeFileSync(join(root, 'c1', '3.png'), Buffer.from('broken'));
    await expect(writeSubset(join(temp, 'broken-ds'), imageFolderSource(root, transform, {concurrency: 3}), {})).rejects.toThrow(
      `${join(root, 'c1', '3.png')}: not a JPEG or PNG image (unknown magic bytes)`,
    );
  });
});
