import {describe, expect, it} from 'vitest';
import {describeSubset, missingClassesWarning, selectIndices} from './subset.js';

// 100 samples: class 0 has 70, class 1 has 20, class 2 has 10 (interleaved).
const labels = Int32Array.from({length: 100}, (_, i) => (i % 10 < 7 ? 0 : i % 10 < 9 ? 1 : 2));

describe('selectIndices', () => {
  it('takes offset then limit in source order with order file', () => {
    expect([...selectIndices(labels, 3, {offset: 5, limit: 3, order: 'file'})]).toEqual([5, 6, 7]);
    expect(selectIndices(labels, 3, {}).length).toBe(100);
    expect(selectIndices(labels, 3, {offset: 200}).length).toBe(0);
  });

  it('represents every class of a class-ordered source by default', () => {
    // 500 of 1000 samples in class order (100 per class): the first 500 would be classes 0-4 only.
    const ordered = Int32Array.from({length: 1000}, (_, i) => Math.floor(i / 100));
    const chosen = selectIndices(ordered, 10, {limit: 50});
    const record = describeSubset(ordered, 10, chosen, {limit: 50});
    expect(record).toMatchObject({order: 'stratified', seed: 0, count: 50, perClass: new Array(10).fill(5), missingClasses: []});
    expect(missingClassesWarning(record, [])).toBeUndefined();
    const first = describeSubset(ordered, 10, selectIndices(ordered, 10, {limit: 500, order: 'file'}), {limit: 500, order: 'file'});
    expect(first.missingClasses).toEqual([5, 6, 7, 8, 9]);
    expect(missingClassesWarning(first, ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'])).toBe(
      'the 500-sample subset (order file) has no sample of 5 of 10 classes (five, six, seven, eight, nine); use order: stratified (the default) or raise limit',
    );
  });

  it('is deterministic per seed, sorted, and disjoint across offsets', () => {
    const a = selectIndices(labels, 3, {seed: 7, limit: 30, order: 'shuffled'});
    expect([...a]).toEqual([...selectIndices(labels, 3, {seed: 7, limit: 30, order: 'shuffled'})]);
    expect([...a]).not.toEqual([...selectIndices(labels, 3, {seed: 8, limit: 30, order: 'shuffled'})]);
    expect([...a]).toEqual([...a].sort((p, q) => p - q));
    const b = selectIndices(labels, 3, {seed: 7, offset: 30, order: 'shuffled'});
    expect(b.length).toBe(70);
    expect(new Set([...a, ...b]).size).toBe(100);
  });

  it('stratifies in proportion to class sizes', () => {
    const chosen = selectIndices(labels, 3, {seed: 1, limit: 10, order: 'stratified'});
    const counts = [0, 0, 0];
    for (const i of chosen) counts[labels[i]!]!++;
    expect(counts).toEqual([7, 2, 1]);
    // Largest remainder: 15 → 10.5, 3, 1.5 → the two halves go to the lower classes first.
    const counts15 = [0, 0, 0];
    for (const i of selectIndices(labels, 3, {seed: 1, limit: 15, order: 'stratified'})) counts15[labels[i]!]!++;
    expect(counts15).toEqual([11, 3, 1]);
  });

  it('rejects negative or fractional offset/limit', () => {
    expect(() => selectIndices(labels, 3, {limit: -1})).toThrow(/limit must be a non-negative integer/);
    expect(() => selectIndices(labels, 3, {offset: 1.5})).toThrow(/offset must be a non-negative integer/);
  });
});
