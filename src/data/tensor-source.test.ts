import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, describe, expect, it} from 'vitest';
import {npyHeader} from './npy.js';
import {openNpz} from './npz.js';
import {tensorSource} from './tensor-source.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/data/', import.meta.url));
const temp = mkdtempSync(join(tmpdir(), 'axx-npy-'));
afterAll(() => rmSync(temp, {recursive: true, force: true}));

/** An NPY file built by hand: our header writer plus raw element bytes. */
function npy(name: string, descr: string, shape: number[], data: Uint8Array): string {
  const file = join(temp, name);
  writeFileSync(file, Buffer.concat([npyHeader(descr, shape), data]));
  return file;
}

function readAll(source: ReturnType<typeof tensorSource>): number[][] {
  const size = source.sampleShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  return Array.from(source.labels, (_, i) => {
    source.read(i, out);
    return [...out];
  });
}

describe('NPY/NPZ sources', () => {
  it('reads numpy-written NPY files (float64 samples, int64 labels)', () => {
    const source = tensorSource({files: {kind: 'npy', x: join(fixtures, 'x.npy'), labels: join(fixtures, 'labels.npy')}});
    expect(source.sampleShape).toEqual([2, 2, 2]);
    expect([...source.labels]).toEqual([0, 1, 2, 0, 1, 2]);
    expect(source.classes).toEqual(['0', '1', '2']);
    const samples = readAll(source);
    expect(samples[5]).toEqual(Array.from({length: 8}, (_, k) => Math.fround((40 + k) / 10)));
  });

  it('reads numpy.savez (stored, zip64 local headers) and savez_compressed (deflated) archives alike, with per-channel normalisation', () => {
    const expected = Array.from({length: 6}, (_, i) => Array.from({length: 9}, (_, k) => Math.fround((((i * 9 + k) * 5) % 256) * (1 / 255) / 0.5 - 0.5 / 0.5)));
    for (const archive of ['arrays.npz', 'arrays-compressed.npz']) {
      const file = join(fixtures, archive);
      expect(openNpz(file).names.sort()).toEqual(['images', 'labels']);
      const source = tensorSource({
        files: {kind: 'npz', file, xKey: 'images', yKey: 'labels'},
        normalization: {scale: 1 / 255, mean: [0.5], std: [0.5]},
        classes: ['a', 'b', 'c', 'd'],
      });
      expect(source.sampleShape).toEqual([1, 3, 3]);
      expect([...source.labels]).toEqual([3, 1, 0, 2, 1, 3]);
      const samples = readAll(source);
      samples.forEach((s, i) => s.forEach((v, k) => expect(v).toBeCloseTo(expected[i]![k]!, 6)));
    }
  });

  it('reads big-endian and single-byte dtypes from hand-built NPY bytes', () => {
    const be = Buffer.alloc(4 * 4);
    [1.5, -2, 3.25, 1e6].forEach((v, i) => be.writeFloatBE(v, 4 * i));
    const x = npy('be.npy', '>f4', [2, 2], be);
    const y = npy('y.npy', '|u1', [2], Uint8Array.from([1, 0]));
    const source = tensorSource({files: {kind: 'npy', x, labels: y}});
    expect(readAll(source)).toEqual([[1.5, -2], [3.25, 1e6]]);
    expect([...source.labels]).toEqual([1, 0]);
    // The same values stored little-endian are read straight into the sample buffer.
    const le = Buffer.alloc(4 * 4);
    [1.5, -2, 3.25, 1e6].forEach((v, i) => le.writeFloatLE(v, 4 * i));
    expect(readAll(tensorSource({files: {kind: 'npy', x: npy('le.npy', '<f4', [2, 2], le), labels: y}}))).toEqual([[1.5, -2], [3.25, 1e6]]);
  });

  it('names the file at fault', () => {
    const y = npy('y3.npy', '<i4', [3], new Uint8Array(12));
    const x2 = npy('x2.npy', '<f4', [2, 1], new Uint8Array(8));
    expect(() => tensorSource({files: {kind: 'npy', x: join(temp, 'nope.npy'), labels: y}})).toThrow(`${join(temp, 'nope.npy')}: NPY file does not exist`);
    expect(() => tensorSource({files: {kind: 'npy', x: x2, labels: y}})).toThrow(`${y}: 3 labels for 2 samples in ${x2}`);
    const png = join(temp, 'x.png');
    writeFileSync(png, Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0, 0, 0]));
    expect(() => tensorSource({files: {kind: 'npy', x: png, labels: y}})).toThrow(`${png}: not an NPY file (bad magic number)`);
    const fy = npy('fy.npy', '<f4', [2], new Uint8Array(8));
    expect(() => tensorSource({files: {kind: 'npy', x: x2, labels: fy}})).toThrow(`${fy}: labels must be integers, found dtype <f4`);
    const short = npy('short.npy', '<f4', [4, 2], new Uint8Array(8));
    expect(() => tensorSource({files: {kind: 'npy', x: short, labels: y}})).toThrow(/short\.npy: NPY data holds 8 bytes; shape \(4, 2\) of <f4 needs 32/);
    const fortran = join(temp, 'f.npy');
    writeFileSync(fortran, Buffer.from(Buffer.from(npyHeader('<f4', [2, 1])).toString('latin1').replace('False', 'True '), 'latin1'));
    expect(() => tensorSource({files: {kind: 'npy', x: fortran, labels: y}})).toThrow(/array is in Fortran order/);
    expect(() => tensorSource({files: {kind: 'npz', file: join(fixtures, 'arrays.npz')}})).toThrow(/arrays\.npz: no array named "x" in the archive/);
    expect(() => tensorSource({files: {kind: 'npz', file: join(fixtures, 'x.npy')}})).toThrow(/x\.npy: not a readable NPZ\/zip archive/);
    const classes = () => tensorSource({files: {kind: 'npy', x: join(fixtures, 'x.npy'), labels: join(fixtures, 'labels.npy')}, classes: ['a', 'b']});
    expect(classes).toThrow(/labels\.npy: label 2 has no class name \(2 given\)/);
  });
});
