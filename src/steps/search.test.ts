import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {recordedContext, vitFixture, type VitFixture} from '../../test/support/vit-fixture.js';
import {openApproximationRuntime} from '../approx/search-runtime/approximation-runtime.js';
import {openDataset} from '../data/dataset-reader.js';
import {evaluateModel} from '../infer/evaluate-model.js';
import {Store} from '../engine/store/store.js';
import {approximateKind, type ApproximateParams} from './approximate.js';
import {searchKind, type SearchOutput, type SearchParams} from './search.js';

const work = mkdtempSync(join(tmpdir(), 'axx-search-'));
afterAll(() => rmSync(work, {recursive: true, force: true}));
let fixture: VitFixture;
beforeAll(async () => {
  fixture = await vitFixture(join(work, 'fixture'), 100);
});

const ajv = new Ajv2020.default({strict: false, useDefaults: true});
function withDefaults<T>(schema: Record<string, unknown>, given: Record<string, unknown>): T {
  const copy = structuredClone(given);
  const validate = ajv.compile(schema);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as T;
}

const LAYERS = ['blocks.0.mlp.fc1', 'blocks.1.attn.qkv', 'blocks.2.mlp.fc2'];
const searchParams = (given: Record<string, unknown> = {}): SearchParams =>
  withDefaults(searchKind.schema, {model: fixture.model, calibration: fixture.calibration, dataset: fixture.dataset, multipliers: ['mul8s_1L2H', 'mul8s_1KR3'], layers: LAYERS, method: 'mcts', budget: 10, threshold: 2, seed: 3, ...given});
let scratch = 0;
const scratchDir = () => join(work, `s${scratch++}`);
const valueOf = <T>(out: Record<string, unknown>, name: string): T => (out[name] as {value: T}).value;

describe('search', () => {
  let reference: {result: SearchOutput; assignment: Record<string, string>};

  it('finds an assignment within the threshold that approximate turns into a model evaluating as predicted', async () => {
    using store = Store.open(join(work, 'cache-a'));
    const {ctx, progress, metrics, logs} = recordedContext(searchParams(), scratchDir(), {memo: store.memo.forKind('search'), kind: searchKind});
    const out = await searchKind.run(ctx);
    const result = valueOf<SearchOutput>(out, 'result');
    const assignment = valueOf<Record<string, string>>(out, 'assignment');
    reference = {result, assignment};
    expect(result.evaluations).toBe(10);
    expect(result.points).toHaveLength(10);
    expect(new Set(result.points.map((p) => JSON.stringify(p.assignment))).size).toBe(10);
    expect(result.best).toBeDefined();
    expect(result.best!.drop).toBeLessThanOrEqual(0.02);
    expect(result.best!.relativePower).toBeLessThan(1);
    expect(Object.keys(assignment)).toEqual(LAYERS);
    expect(assignment).toEqual(result.best!.assignment);
    expect(progress.at(-1)).toEqual([10, 10]);
    expect(metrics.bestSaving).toBeCloseTo(1 - result.best!.relativePower, 12);
    expect(metrics.evaluationsRun).toBe(11); // 10 configurations + the all-exact baseline
    expect(readFileSync((out.plot as {file: string}).file, 'utf8')).toContain('whole-model relative power');
    // Whole-model power: the layers left out of the search (patch embedding, head, other blocks) at exact power.
    const share = result.power.approximatedMacs / result.power.modelMacs;
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThan(0.5);
    for (const point of result.front) {
      expect(point.wholeModelPower).toBeCloseTo(1 - share * (1 - point.relativePower), 12);
      expect(point.interval.low).toBeLessThanOrEqual(point.accuracy);
      expect(point.interval.high).toBeGreaterThanOrEqual(point.accuracy);
    }
    expect(result.searchBest!.evidence.samples).toBe(100);
    expect(logs.some((line) => line.includes('UNCONFIRMED'))).toBe(true);

    // The assignment output is approximate's `assign` as is; the model it makes scores what search measured.
    const approximate = recordedContext(withDefaults<ApproximateParams>(approximateKind.schema, {model: fixture.model, calibration: fixture.calibration, layers: LAYERS, assign: assignment}), scratchDir());
    const model = ((await approximateKind.run(approximate.ctx)).model as {file: string}).file;
    const evaluated = await evaluateModel(model, openDataset(fixture.dataset), {batchSize: 50});
    expect(evaluated.metrics.top1).toBe(result.best!.accuracy);
    expect(result.baselineAccuracy - evaluated.metrics.top1).toBeLessThanOrEqual(0.02);

    // A second run answers every configuration from the memo.
    const again = recordedContext(searchParams(), scratchDir(), {memo: store.memo.forKind('search'), kind: searchKind});
    const againOut = await searchKind.run(again.ctx);
    expect(again.metrics.evaluationsRun).toBe(0);
    expect(againOut.result).toEqual(out.result);
  });

  it('resumes a killed search from its checkpoint and ends with the uninterrupted result', async () => {
    using store = Store.open(join(work, 'cache-b'));
    const slot = store.checkpoints.slot('search-key');
    const memo = store.memo.forKind('search');
    const killed = recordedContext(searchParams(), scratchDir(), {memo, checkpoint: slot, kind: searchKind});
    const progress = killed.ctx.progress;
    killed.ctx.progress = (done, total, unit) => {
      progress(done, total, unit);
      if (done >= 4) killed.abort.abort(new Error('killed'));
    };
    await expect(searchKind.run(killed.ctx)).rejects.toThrow('killed');
    const saved = await slot.load();
    expect(saved).toBeDefined();

    const resumed = recordedContext(searchParams(), scratchDir(), {memo, checkpoint: slot, kind: searchKind});
    const out = await searchKind.run(resumed.ctx);
    expect(resumed.logs.some((line) => line.startsWith('resumed from a checkpoint with 4'))).toBe(true);
    // Only the configurations the killed run had not reached are evaluated (+ nothing for the memoised baseline).
    expect(resumed.metrics.evaluationsRun).toBe(6);
    expect(valueOf(out, 'result')).toEqual(reference.result);
    expect(valueOf(out, 'assignment')).toEqual(reference.assignment);
  });

  it('the default method (knapsack) without a sensitivity matrix is an error pointing at the parameter', async () => {
    const {method: _, ...rest} = searchParams();
    const {ctx} = recordedContext(withDefaults<SearchParams>(searchKind.schema, rest as unknown as Record<string, unknown>), scratchDir(), {kind: searchKind});
    expect(ctx.params.method).toBe('knapsack');
    await expect(searchKind.run(ctx)).rejects.toMatchObject({name: 'StepError', param: 'with.sensitivity'});
  });

  it('rejects a sensitivity matrix that lacks a searched cell, pointing at it', async () => {
    const matrix = {format: 'axx-sensitivity', version: 1, baselineAccuracy: 1, layers: [LAYERS[0]], multipliers: ['mul8s_1L2H'], cells: [{layer: LAYERS[0], multiplier: 'mul8s_1L2H', accuracy: 1, drop: 0}]};
    const {ctx} = recordedContext(searchParams({sensitivity: matrix}), scratchDir(), {kind: searchKind});
    await expect(searchKind.run(ctx)).rejects.toMatchObject({name: 'StepError', param: 'with.sensitivity'});
  });
});

describe('search answers confirmed on held-out images', () => {
  let large: VitFixture;
  beforeAll(async () => {
    large = await vitFixture(join(work, 'fixture-large'), 5000);
  }, 120_000);

  it('the unconfirmed answer exceeds the threshold on images the search never saw; the confirmed one does not', async () => {
    // 27 configurations, all evaluated on 200 search images; a 0.5-point threshold is one image there.
    const params = withDefaults<SearchParams>(searchKind.schema, {
      model: large.model,
      calibration: large.calibration,
      dataset: large.dataset,
      multipliers: ['mul8s_1L2H', 'mul8s_1L2D', 'mul8s_1KR3'],
      layers: LAYERS,
      method: 'random',
      budget: 27,
      threshold: 0.5,
      limit: 200,
      dataSeed: 2,
      holdout: 2000,
      holdoutStages: 2,
      confidence: 0.9,
    });
    using store = Store.open(join(work, 'cache-confirm'));
    const {ctx, logs} = recordedContext(params, scratchDir(), {memo: store.memo.forKind('search'), kind: searchKind});
    const out = await searchKind.run(ctx);
    const result = valueOf<SearchOutput>(out, 'result');
    const unconfirmed = result.searchBest!;
    const confirmed = result.confirmation!.answer!;
    expect(unconfirmed.drop).toBeLessThanOrEqual(0.005 + 1e-9);
    expect(valueOf(out, 'assignment')).toEqual(confirmed.assignment);
    expect(result.best!.assignment).toEqual(confirmed.assignment);
    expect(logs.some((line) => line.includes('confirmed:'))).toBe(true);

    // Scored independently: the same draw of hold-out images, and every image of the set.
    const drops = async (assignment: Record<string, string>) => {
      const runtime = openApproximationRuntime({modelFile: large.model, calibrationFile: large.calibration, datasetDir: large.dataset, multipliers: params.multipliers, layers: LAYERS, limit: 200, dataSeed: 2, holdout: 2000, holdoutStages: 2});
      const whole = openApproximationRuntime({modelFile: large.model, calibrationFile: large.calibration, datasetDir: large.dataset, multipliers: params.multipliers, layers: LAYERS});
      const signal = new AbortController().signal;
      let holdoutDrop = 0;
      for (const stage of runtime.holdout) holdoutDrop += (stage.samples / 2000) * ((await stage.evaluate({}, signal)).accuracy - (await stage.evaluate(assignment, signal)).accuracy);
      return {holdout: holdoutDrop, whole: (await whole.evaluate({}, signal)).accuracy - (await whole.evaluate(assignment, signal)).accuracy};
    };
    const before = await drops(unconfirmed.assignment);
    expect(before.holdout).toBeGreaterThan(0.005);
    expect(before.whole).toBeGreaterThan(0.005);
    const after = await drops(confirmed.assignment);
    expect(after.holdout).toBeLessThanOrEqual(0.005);
    expect(after.whole).toBeLessThanOrEqual(0.005);
    expect(confirmed.relativePower).toBeGreaterThan(unconfirmed.relativePower);
  }, 300_000);
});
