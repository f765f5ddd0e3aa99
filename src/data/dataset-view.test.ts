import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {openDataset} from './dataset-reader.js';
import {datasetView, disjointStratifiedSubsets} from './dataset-view.js';
import {writeSubset} from './write-subset.js';
import type {SampleSource} from './sample-source.js';

const dir = mkdtempSync(join(tmpdir(), 'axx-view-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));

/** 100 one-float samples ordered by class, as an image folder is: 0…0 1…1 … 9…9; a sample's value is its index. */
const classOrdered: SampleSource = {
  sampleShape: [1],
  classes: Array.from({length: 10}, (_, c) => String(c)),
  labels: Int32Array.from({length: 100}, (_, i) => Math.floor(i / 10)),
  preprocessing: {description: 'index'},
  origin: {source: 'test'},
  read(index, out) {
    out[0] = index;
  },
};

describe('dataset views', () => {
  it('disjoint stratified subsets cover every class of a class-ordered set, and differ per seed', () => {
    const labels = Int32Array.from({length: 100}, (_, i) => Math.floor(i / 10));
    const [search, holdout] = disjointStratifiedSubsets(labels, 10, [20, 30], 3);
    expect(new Set([...search!].map((i) => labels[i])).size).toBe(10);
    expect(new Set([...holdout!].map((i) => labels[i])).size).toBe(10);
    expect([...search!].filter((i) => holdout!.includes(i))).toEqual([]);
    expect(holdout!.length).toBe(30);
    const [again] = disjointStratifiedSubsets(labels, 10, [20], 3);
    expect([...again!]).toEqual([...search!]);
    const [other] = disjointStratifiedSubsets(labels, 10, [20], 4);
    expect([...other!]).not.toEqual([...search!]);
  });

  it('a view reads the chosen samples in the given order, in batches', async () => {
    await writeSubset(join(dir, 'set'), classOrdered, {});
    const dataset = openDataset(join(dir, 'set'));
    const labels = dataset.readLabels();
    expect([...labels]).toEqual([...classOrdered.labels]);
    const view = datasetView(dataset, Int32Array.of(95, 3, 42, 17, 60), labels);
    expect(view.manifest.count).toBe(5);
    expect(view.manifest.labelCounts).toEqual([1, 1, 0, 0, 1, 0, 1, 0, 0, 1]);
    const seen: number[] = [];
    for (const batch of view.batches(2, {start: 1})) seen.push(...batch.x, -1, ...batch.y, -2);
    expect(seen).toEqual([3, 42, -1, 0, 4, -2, 17, 60, -1, 1, 6, -2]);
  });
});
