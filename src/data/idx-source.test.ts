import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {gzipSync} from 'node:zlib';
import {afterAll, describe, expect, it} from 'vitest';
import {openDataset} from './dataset-reader.js';
import {parseIdx} from './idx.js';
import {idxSource} from './idx-source.js';
import {writeSubset} from './write-subset.js';

const temp = mkdtempSync(join(tmpdir(), 'axx-idx-'));
afterAll(() => rmSync(temp, {recursive: true, force: true}));

function idx(dims: number[], data: number[]): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt8(0x08, 2);
  header.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([header, Uint8Array.from(data)]));
}

describe('IDX', () => {
  it('parses headers and rejects bad magic numbers, types and sizes', () => {
    expect(parseIdx(idx([2, 3], [1, 2, 3, 4, 5, 6]), 'f')).toEqual({dims: [2, 3], data: Uint8Array.from([1, 2, 3, 4, 5, 6])});
    expect(() => parseIdx(Uint8Array.from([0x89, 0x50, 0x4e, 0x47]), 'x.png')).toThrow('x.png: not an IDX file (bad magic number)');
    expect(() => parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 0]), 'f')).toThrow(/element type 0xd is not supported/);
    expect(() => parseIdx(idx([2, 3], [1, 2]), 'f')).toThrow('f: IDX header promises 2×3 = 6 bytes but the file holds 2');
  });

  it('reads the real MNIST test split: shapes, first labels, normalised pixels', async () => {
    const source = idxSource({dataset: 'mnist', split: 'test'});
    expect(source.sampleShape).toEqual([1, 28, 28]);
    expect(source.labels.length).toBe(10000);
    expect([...source.labels.subarray(0, 10)]).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    const x = new Float32Array(784);
    source.read(0, x);
    expect(Math.min(...x)).toBeCloseTo(-0.1307 / 0.3081, 5);
    expect(Math.max(...x)).toBeCloseTo((1 - 0.1307) / 0.3081, 5);
    const train = idxSource({dataset: 'mnist', split: 'train', mean: 0, std: 1});
    expect(train.labels.length).toBe(60000);
    expect([...train.labels.subarray(0, 5)]).toEqual([5, 0, 4, 1, 9]);
  });

  it.skipIf(!existsSync('/usr/share/datasets/fashion-mnist'))('reads Fashion-MNIST from the Debian package (gzipped IDX)', () => {
    const source = idxSource({dataset: 'fashion-mnist', split: 'test'});
    expect(source.labels.length).toBe(10000);
    expect([...source.labels.subarray(0, 5)]).toEqual([9, 2, 1, 1, 6]);
    expect(source.classes[9]).toBe('Ankle boot');
  });

  it('writes a stratified MNIST subset as a dataset', async () => {
    const dir = join(temp, 'mnist-sub');
    const progress: number[] = [];
    const manifest = await writeSubset(dir, idxSource({dataset: 'mnist', split: 'test'}), {limit: 100, seed: 3, order: 'stratified'}, {onProgress: (d, t) => progress.push(d / t)});
    expect(manifest.count).toBe(100);
    expect(manifest.labelCounts.reduce((a, b) => a + b)).toBe(100);
    expect(Math.max(...manifest.labelCounts) - Math.min(...manifest.labelCounts)).toBeLessThanOrEqual(2);
    expect(progress.at(-1)).toBe(1);
    const [batch] = [...openDataset(dir).batches(100)];
    expect(batch?.count).toBe(100);
  });

  it('reads gzipped files from a given directory and names the file at fault', () => {
    const dir = join(temp, 'tiny');
    const write = (name: string, bytes: Uint8Array) => writeFileSync(join(dir, name), bytes);
    rmSync(dir, {recursive: true, force: true});
    expect(() => idxSource({dataset: 'mnist', split: 'test', dir})).toThrow(`${dir}: mnist directory does not exist`);
    mkdirSync(dir);
    write('t10k-images-idx3-ubyte.gz', gzipSync(idx([2, 1, 2], [0, 255, 51, 102])));
    expect(() => idxSource({dataset: 'mnist', split: 'test', dir})).toThrow(`${dir}: no t10k-labels-idx1-ubyte (or t10k-labels-idx1-ubyte.gz) found`);
    write('t10k-labels-idx1-ubyte', idx([3], [1, 2, 3]));
    expect(() => idxSource({dataset: 'mnist', split: 'test', dir})).toThrow(/t10k-labels-idx1-ubyte: 3 labels for 2 images/);
    write('t10k-labels-idx1-ubyte', idx([2], [1, 12]));
    expect(() => idxSource({dataset: 'mnist', split: 'test', dir})).toThrow(/label 12 of sample 1 is not one of the 10 classes/);
    write('t10k-labels-idx1-ubyte', idx([2], [1, 2]));
    const source = idxSource({dataset: 'mnist', split: 'test', dir, mean: 0, std: 1});
    const x = new Float32Array(2);
    source.read(1, x);
    expect([...x]).toEqual([Math.fround(0.2), Math.fround(0.4)]);
  });
});
