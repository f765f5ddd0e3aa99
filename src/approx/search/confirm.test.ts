import {describe, expect, it} from 'vitest';
import {confirm, type HoldoutStage} from './confirm.js';
import {encodeCorrect} from './correctness.js';
import type {Assignment, EvaluatedPoint} from './types.js';

// Hold-out stages of 1000 images. The baseline gets images 0..899 right; configuration `drop:k` gets
// the baseline's right images except the first k of each stage wrong (a drop of k/1000 per stage).
function stages(count: number, scored: string[]): HoldoutStage[] {
  return Array.from({length: count}, () => ({
    samples: 1000,
    evaluate: async (assignment: Assignment) => {
      scored.push(assignment.L!);
      const wrong = assignment.L === 'exact' ? 0 : Number(assignment.L!.split(':')[1]);
      return {accuracy: 0, correct: encodeCorrect(Array.from({length: 1000}, (_, i) => i >= wrong && i < 900))};
    },
  }));
}

const point = (name: string, relativePower: number, drop: number): EvaluatedPoint => ({assignment: {L: name}, accuracy: 0.9 - drop, drop, relativePower, feasible: drop <= 0.015, order: 1});

describe('confirm', () => {
  it('answers with the cheapest candidate whose hold-out drop is within the threshold, stopping clear cases early', async () => {
    const scored: string[] = [];
    // On the search subset all four looked fine (the search's luck).
    const points = [point('drop:40', 0.3, 0.002), point('drop:12', 0.5, 0.001), point('drop:2', 0.6, 0.002), point('drop:0', 0.9, 0)];
    const result = await confirm(points, stages(2, scored), {maxAccuracyDrop: 0.015, confidence: 0.9, maxCandidates: 4, baseline: {L: 'exact'}});
    // drop:40 is beyond after one stage; drop:12 (1.2 points) needs both stages and stays undecided; drop:2 passes at once.
    expect(result.candidates.map((c) => [c.assignment.L, c.verdict, c.stages])).toEqual([
      ['drop:40', 'beyond', 1],
      ['drop:12', 'undecided', 2],
      ['drop:2', 'within', 1],
    ]);
    expect(result.answer?.assignment).toEqual({L: 'drop:2'});
    expect(result.alphaPerLook).toBeCloseTo(0.1 / 8, 12);
    expect(result.evaluations).toBe(scored.length);
    expect(scored.filter((name) => name === 'exact')).toHaveLength(2);
  });

  it('without a confirmable candidate, names the closest and gives no answer', async () => {
    const result = await confirm([point('drop:40', 0.3, 0.001), point('drop:30', 0.4, 0.001)], stages(1, []), {maxAccuracyDrop: 0.015, confidence: 0.9, baseline: {L: 'exact'}});
    expect(result.answer).toBeUndefined();
    expect(result.closest?.assignment).toEqual({L: 'drop:30'});
  });

  it('a margin tightens the threshold', async () => {
    const result = await confirm([point('drop:2', 0.6, 0.004)], stages(1, []), {maxAccuracyDrop: 0.015, margin: 0.014, confidence: 0.9, baseline: {L: 'exact'}});
    expect(result.answer).toBeUndefined();
  });
});
