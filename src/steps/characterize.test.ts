import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {StepError} from '../engine/step-kind.js';
import {characterizeKind, type CharacterizeParams} from './characterize.js';
import {stepContext} from '../../test/support/step-context.js';

const work = mkdtempSync(join(tmpdir(), 'axx-characterize-'));
afterAll(() => rmSync(work, {recursive: true, force: true}));

function context(params: CharacterizeParams) {
  return stepContext(params, {scratchRoot: work});
}

function calibrationFile(activationCounts: number[], weightCounts: number[], op = 'MatMul'): string {
  const stats = (role: string, operandCounts: number[]) => ({role, max: 1, amax: 1, histogram: {range: 1, counts: new Array(2048).fill(0)}, operandCounts});
  const file = join(work, `calibration-${Math.random()}.json`);
  const calibration = {
    format: 'axx-calibration',
    version: 1,
    method: 'percentile',
    percentile: 99.99,
    samples: 8,
    batches: 1,
    values: {x: stats('activation', activationCounts), w: stats('weight', weightCounts)},
    layers: [{node: 'fc', op, kind: 'weight', operands: ['x', 'w']}],
  };
  writeFileSync(file, JSON.stringify(calibration));
  return file;
}

/** An unsigned table file (int32 words) with entries f(a, b). */
function writeTable(f: (a: number, b: number) => number): string {
  const table = new Int32Array(65536);
  for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) table[a * 256 + b] = f(a, b);
  const file = join(work, `table-${Math.random()}.bin`);
  writeFileSync(file, new Uint8Array(table.buffer));
  return file;
}

type Output = Record<string, {metrics: {mae: number; wce: number}; weighted?: {mae: number; wce: number}; rank: number; hardware: {powerMw: number | null}}>;

describe('characterize step', () => {
  it('reports metrics, rank and hardware per multiplier', async () => {
    const ctx = context({multipliers: ['mul8s_1L2H', 'exact8s', 'drum8u_k4']});
    const {metrics} = await characterizeKind.run(ctx);
    const value = (metrics as {value: Output}).value;
    expect(Object.keys(value)).toEqual(['mul8s_1L2H', 'exact8s', 'drum8u_k4']);
    expect(value['mul8s_1L2H']).toMatchObject({rank: 1, hardware: {powerMw: 0.301}, metrics: {wce: 255}});
    expect(value['exact8s']?.metrics.mae).toBe(0);
    expect(value['drum8u_k4']?.weighted).toBeUndefined();
    expect(ctx.progressed.map(([done]) => done)).toEqual([1, 2, 3]);
  });

  it('weights by the calibrated operand histograms (row operand × column operand)', async () => {
    // Activations only 0 and 1, weights only 3: mul8s_1L2H's errors there differ from its uniform ones.
    const activations = new Array(256).fill(0);
    const weights = new Array(256).fill(0);
    activations[0] = 5;
    activations[1] = 5;
    weights[3] = 1;
    const {metrics} = await characterizeKind.run(context({multipliers: ['exact8s', 'mul8s_1L2H'], distribution: calibrationFile(activations, weights)}));
    const value = (metrics as {value: Output}).value;
    expect(value['exact8s']?.weighted?.mae).toBe(0);
    const weighted = value['mul8s_1L2H']?.weighted;
    expect(weighted).toBeDefined();
    expect(weighted?.mae).not.toBe(value['mul8s_1L2H']?.metrics.mae);
  });

  it('takes the weight as the row operand of a Conv layer', async () => {
    // A table wrong only at a = 3 (row), b = 1 (column) errs for activations 1 × weights 3 in Conv only.
    const activations = new Array(256).fill(0);
    const weights = new Array(256).fill(0);
    activations[1] = 1;
    weights[3] = 1;
    const table = writeTable((a, b) => (a === 3 && b === 1 ? 0 : a * b));
    const run = async (op: string) => {
      const {metrics} = await characterizeKind.run(context({multipliers: [table], distribution: calibrationFile(activations, weights, op)}));
      return (metrics as {value: Output}).value[table]?.weighted?.mae;
    };
    expect(await run('Conv')).toBe(3);
    expect(await run('MatMul')).toBe(0);
  });

  it('names the parameter at fault', async () => {
    const unknown = await characterizeKind.run(context({multipliers: ['exact8s', 'mul8s_NOPE']})).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(StepError);
    expect(unknown).toMatchObject({param: 'with.multipliers.1', message: expect.stringMatching(/unknown multiplier "mul8s_NOPE"/)});
    const badFamily = await characterizeKind.run(context({multipliers: ['trunc8s_k12']})).catch((e: unknown) => e);
    expect(badFamily).toMatchObject({param: 'with.multipliers.0', message: expect.stringMatching(/k must be between 1 and 8/)});
    const notCalibration = join(work, 'not-calibration.json');
    writeFileSync(notCalibration, '{"format": "something-else"}');
    const badDistribution = await characterizeKind.run(context({multipliers: ['exact8s'], distribution: notCalibration})).catch((e: unknown) => e);
    expect(badDistribution).toMatchObject({param: 'with.distribution', message: expect.stringMatching(/not-calibration\.json.*"format" must be "axx-calibration"/)});
  });
});
