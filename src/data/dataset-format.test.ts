import {mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {openDataset} from './dataset-reader.js';
import {writeDataset, type Sample} from './dataset-writer.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'axx-ds-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
});

/** Sample i holds values i*10 + k, label i % 3; one reused array, as real sources do. */
function* counting(n: number, size: number): Generator<Sample> {
  const x = new Float32Array(size);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < size; k++) x[k] = i * 10 + k;
    yield {x, label: i % 3};
  }
}

async function writeCounting(n: number, shardBytes = 100): Promise<string> {
  const dir = tempDir();
  await writeDataset(dir, {sampleShape: [1, 2, 2], classes: ['a', 'b', 'c'], preprocessing: {description: 'none'}, samples: counting(n, 4)}, {shardBytes});
  return dir;
}

describe('dataset directory format', () => {
  it('writes shards of at most shardBytes and a manifest with label counts', async () => {
    const dir = await writeCounting(11);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    // 20 bytes per sample (4 floats + 1 label): 5 per 100-byte shard.
    expect(manifest.shards).toEqual([
      {file: 'shard-00000.bin', count: 5},
      {file: 'shard-00001.bin', count: 5},
      {file: 'shard-00002.bin', count: 1},
    ]);
    expect(manifest).toMatchObject({format: 'axx-dataset', version: 1, count: 11, sampleShape: [1, 2, 2], dtype: 'float32', labelCounts: [4, 4, 3]});
    // Raw little-endian float32 samples, then int32 labels.
    const shard = readFileSync(join(dir, 'shard-00001.bin'));
    expect(shard.length).toBe(5 * 20);
    expect(shard.readFloatLE(0)).toBe(50);
    expect(shard.readInt32LE(5 * 16)).toBe(5 % 3);
  });

  it('reads batches across shard boundaries, with a short last batch, reusing its buffers', async () => {
    const dataset = openDataset(await writeCounting(11));
    const seen: {first: number; count: number; labels: number[]}[] = [];
    let buffer: ArrayBufferLike | undefined;
    for (const batch of dataset.batches(4)) {
      seen.push({first: batch.x[0]!, count: batch.count, labels: [...batch.y]});
      expect(batch.x.length).toBe(batch.count * 4);
      expect(batch.x[batch.count * 4 - 1]).toBe((batch.start + batch.count - 1) * 10 + 3);
      buffer ??= batch.x.buffer;
      expect(batch.x.buffer).toBe(buffer);
    }
    expect(seen).toEqual([
      {first: 0, count: 4, labels: [0, 1, 2, 0]},
      {first: 40, count: 4, labels: [1, 2, 0, 1]},
      {first: 80, count: 3, labels: [2, 0, 1]},
    ]);
  });

  it('reads a range and random samples', async () => {
    const dataset = openDataset(await writeCounting(11));
    const batches = [...dataset.batches(10, {start: 3, limit: 4})].map((b) => [...b.y]);
    expect(batches).toEqual([[0, 1, 2, 0]]);
    const x = new Float32Array(3 * 4);
    const y = new Int32Array(3);
    dataset.readSamples([10, 0, 6], x, y);
    expect([x[0], x[4], x[8], x[11]]).toEqual([100, 0, 60, 63]);
    expect([...y]).toEqual([1, 0, 0]);
    expect(() => dataset.readSamples([11], x, y)).toThrow(RangeError);
  });

  it('reads every label of uint8 shards, whose samples take one byte per element', async () => {
    const dir = tempDir();
    function* bytes(): Generator<Sample> {
      const x = new Uint8Array(4);
      for (let i = 0; i < 11; i++) yield {x: x.fill(i), label: i % 3};
    }
    await writeDataset(dir, {sampleShape: [1, 2, 2], dtype: 'uint8', classes: ['a', 'b', 'c'], preprocessing: {description: 'none'}, samples: bytes()}, {shardBytes: 40});
    const dataset = openDataset(dir);
    expect(dataset.manifest.shards.length).toBeGreaterThan(1);
    expect([...dataset.readLabels()]).toEqual(Array.from({length: 11}, (_, i) => i % 3));
  });

  it('stores uint8 samples as bytes and reads them normalised, in batches and at random, across shards', async () => {
    const dir = tempDir();
    function* bytes(): Generator<Sample> {
      const x = new Uint8Array(8);
      for (let i = 0; i < 7; i++) {
        for (let k = 0; k < 8; k++) x[k] = (i * 31 + k * 17) % 256;
        yield {x, label: i % 3};
      }
    }
    // Two channels of [2, 2]: channel 0 is (x/255 - 0.5)/0.25, channel 1 (x/255 - 0.25)/0.5.
    const preprocessing = {description: 'test', scale: 1 / 255, mean: [0.5, 0.25], std: [0.25, 0.5]};
    const manifest = await writeDataset(dir, {sampleShape: [2, 2, 2], dtype: 'uint8', classes: ['a', 'b', 'c'], preprocessing, samples: bytes()}, {shardBytes: 30});
    expect(manifest.dtype).toBe('uint8');
    expect(manifest.shards.map((s) => s.count)).toEqual([2, 2, 2, 1]); // 8 bytes + a 4-byte label per sample
    const expected = (i: number, k: number) => Math.fround(((i * 31 + k * 17) % 256) * (1 / 255 / [0.25, 0.5][k >> 2]!) - [0.5, 0.25][k >> 2]! / [0.25, 0.5][k >> 2]!);
    const dataset = openDataset(dir);
    const [batch] = [...dataset.batches(7)];
    expect(Array.from(batch!.x)).toEqual(Array.from({length: 56}, (_, j) => expected(j >> 3, j & 7)));
    const x = new Float32Array(16);
    const y = new Int32Array(2);
    dataset.readSamples([6, 1], x, y);
    expect(Array.from(x)).toEqual([...Array.from({length: 8}, (_, k) => expected(6, k)), ...Array.from({length: 8}, (_, k) => expected(1, k))]);
    expect(Array.from(y)).toEqual([0, 1]);
  });

  it('names the file when the manifest is missing, damaged or disagrees with a shard', async () => {
    const empty = tempDir();
    expect(() => openDataset(empty)).toThrow(`${join(empty, 'manifest.json')}: no dataset manifest here`);

    const dir = await writeCounting(6);
    truncateSync(join(dir, 'shard-00001.bin'), 7);
    expect(() => openDataset(dir)).toThrow(/shard-00001\.bin: shard has 7 bytes, manifest.json says 1 samples = 20 bytes/);

    const manifestFile = join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(manifestFile, JSON.stringify({...manifest, count: 99}));
    expect(() => openDataset(dir)).toThrow(/manifest.json: field "shards" hold 6 samples but count is 99/);
    writeFileSync(manifestFile, '{');
    expect(() => openDataset(dir)).toThrow(/manifest.json: not valid JSON/);
  });

  it('refuses samples of the wrong size or with labels outside the classes', async () => {
    const source = (samples: Sample[]) => ({sampleShape: [2], classes: ['a'], preprocessing: {description: ''}, samples});
    await expect(writeDataset(tempDir(), source([{x: new Float32Array(3), label: 0}]))).rejects.toThrow(/sample 0 has 3 values; shape \[2\] needs 2/);
    await expect(writeDataset(tempDir(), source([{x: new Float32Array(2), label: 1}]))).rejects.toThrow(/sample 0 has label 1, outside the 1 classes/);
  });

  it('writes an empty dataset that reads as no batches', async () => {
    const dir = tempDir();
    await writeDataset(dir, {sampleShape: [3], classes: ['a'], preprocessing: {description: ''}, samples: []});
    expect([...openDataset(dir).batches(8)]).toEqual([]);
  });
});
