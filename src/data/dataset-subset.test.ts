import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {openDataset} from './dataset-reader.js';
import {datasetSubset} from './dataset-subset.js';
import {writeDataset, type Sample} from './dataset-writer.js';

const work = mkdtempSync(join(tmpdir(), 'axx-dataset-subset-'));
afterAll(() => rmSync(work, {recursive: true, force: true}));

/** 40 samples in class order (10 per class), sample i holding the values i and i + 0.5; shards of 3 samples. */
async function classOrdered(): Promise<string> {
  const dir = mkdtempSync(join(work, 'set-'));
  function* samples(): Generator<Sample> {
    for (let i = 0; i < 40; i++) yield {x: Float32Array.of(i, i + 0.5), label: Math.floor(i / 10)};
  }
  await writeDataset(dir, {sampleShape: [2], classes: ['a', 'b', 'c', 'd'], preprocessing: {description: 'none'}, samples: samples()}, {shardBytes: 36});
  return dir;
}

describe('datasetSubset', () => {
  it('reads every label across shards, and batches exactly the chosen samples in stored order', async () => {
    const stored = openDataset(await classOrdered());
    expect(stored.manifest.shards.length).toBeGreaterThan(10);
    expect([...stored.readLabels()]).toEqual(Array.from({length: 40}, (_, i) => Math.floor(i / 10)));
    const {dataset, record, indices} = datasetSubset(stored, {limit: 8});
    expect(record).toMatchObject({order: 'stratified', seed: 0, count: 8, perClass: [2, 2, 2, 2], missingClasses: []});
    expect(dataset.manifest).toMatchObject({count: 8, labelCounts: [2, 2, 2, 2]});
    const seen: number[] = [];
    const labels: number[] = [];
    for (const batch of dataset.batches(3)) {
      for (let s = 0; s < batch.count; s++) seen.push(batch.x[2 * s]!);
      labels.push(...batch.y);
    }
    expect(seen).toEqual([...indices]);
    expect(seen).toEqual([...seen].sort((p, q) => p - q));
    expect(labels).toEqual(seen.map((i) => Math.floor(i / 10)));
    expect([...dataset.readLabels()]).toEqual(labels);
    const x = new Float32Array(4);
    const y = new Int32Array(2);
    dataset.readSamples([7, 0], x, y);
    expect([...x]).toEqual([indices[7]!, indices[7]! + 0.5, indices[0]!, indices[0]! + 0.5]);
  });

  it('is the stored dataset itself when the subset is all of it', async () => {
    const stored = openDataset(await classOrdered());
    expect(datasetSubset(stored, {}).dataset).toBe(stored);
  });
});
