import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {parseCalibration} from '../approx/calibration-format.js';
import {resolveMultiplier} from '../approx/library.js';
import {approximateModel} from '../approx/rewrite.js';
import {recordedContext, vitFixture, type VitFixture} from '../../test/support/vit-fixture.js';
import {openDataset} from '../data/dataset-reader.js';
import {evaluateModel} from '../infer/evaluate-model.js';
import {StepError} from '../engine/step-kind.js';
import {Store} from '../engine/store/store.js';
import {decodeModel, encodeModel} from '../onnx/codec.js';
import {sensitivityKind, type SensitivityOutput, type SensitivityParams} from './sensitivity.js';

const work = mkdtempSync(join(tmpdir(), 'axx-sensitivity-'));
afterAll(() => rmSync(work, {recursive: true, force: true}));
let fixture: VitFixture;
beforeAll(async () => {
  fixture = await vitFixture(join(work, 'fixture'), 100);
});

const validate = new Ajv2020.default({strict: false, useDefaults: true}).compile(sensitivityKind.schema);
function params(given: Record<string, unknown>): SensitivityParams {
  const copy = structuredClone({model: fixture.model, calibration: fixture.calibration, dataset: fixture.dataset, ...given});
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as unknown as SensitivityParams;
}

const LAYERS = ['blocks.0.mlp.fc1', 'blocks.3.attn.qkv'];
const MULTIPLIERS = ['mul8s_1KR3', 'mul8s_1L2H'];
let scratch = 0;

describe('sensitivity', () => {
  it('measures 2 layers × 2 multipliers; a cell equals approximating that layer alone and evaluating it', async () => {
    const {ctx, progress, metrics} = recordedContext(params({layers: LAYERS, multipliers: MULTIPLIERS}), join(work, `s${scratch++}`), {kind: sensitivityKind});
    const out = await sensitivityKind.run(ctx);
    const matrix = (out.matrix as {value: unknown}).value as SensitivityOutput;
    expect(matrix.layers).toEqual(LAYERS);
    expect(matrix.multipliers).toEqual(['mul8s_1KV8', ...MULTIPLIERS]);
    expect(matrix.cells.map((c) => `${c.layer}×${c.multiplier}`)).toEqual(LAYERS.flatMap((l) => MULTIPLIERS.map((m) => `${l}×${m}`)));
    expect(matrix.samples).toBe(100);
    expect(matrix.macs).toEqual({'blocks.0.mlp.fc1': 139264, 'blocks.3.attn.qkv': 208896});
    expect(matrix.multiplierInfo.map((m) => m.powerMw)).toEqual([0.425, 0.052, 0.301]);
    for (const cell of matrix.cells) {
      expect(cell.drop).toBeCloseTo(matrix.baselineAccuracy - cell.accuracy, 12);
      expect(Object.keys(cell.metrics ?? {}).sort()).toEqual(['logit-kl', 'logit-mse']);
      expect(cell.metrics!['logit-kl']).toBeGreaterThan(0);
      // Paired with the baseline on the same images: the discordant counts make up the drop.
      expect((cell.paired!.onlyBaselineCorrect - cell.paired!.onlyCellCorrect) / matrix.samples).toBeCloseTo(cell.drop, 12);
      expect(cell.paired!.pValue).toBeGreaterThan(0);
      expect(cell.interval!.low).toBeLessThanOrEqual(cell.accuracy);
      expect(cell.interval!.high).toBeGreaterThanOrEqual(cell.accuracy);
    }
    expect(matrix.sampling).toMatchObject({seed: 0, of: 100, stratified: true});
    // The very cheap 1KR3 hurts more than 1L2H wherever it is put (KL is smooth enough to order them).
    for (const layer of LAYERS) {
      const kl = (m: string) => matrix.cells.find((c) => c.layer === layer && c.multiplier === m)!.metrics!['logit-kl']!;
      expect(kl('mul8s_1KR3')).toBeGreaterThan(kl('mul8s_1L2H'));
    }
    expect(progress.at(-1)).toEqual([4, 4]);
    expect(metrics.cells).toBe(4);
    expect(metrics.evaluations).toBe(5);
    expect(readFileSync((out.heatmap as {file: string}).file, 'utf8')).toContain('<svg');

    // Independent check of one cell through the plain approximate + evaluate libraries.
    const cell = matrix.cells.find((c) => c.layer === 'blocks.3.attn.qkv' && c.multiplier === 'mul8s_1KR3')!;
    const {model} = approximateModel(decodeModel(readFileSync(fixture.model)), {
      calibration: parseCalibration(JSON.parse(readFileSync(fixture.calibration, 'utf8')), fixture.calibration),
      resolveMultiplier,
      layers: LAYERS,
      assign: {'blocks.3.attn.qkv': 'mul8s_1KR3'},
      default: 'exact8s',
    });
    const direct = await evaluateModel(encodeModel(model), openDataset(fixture.dataset), {batchSize: 32});
    expect(cell.accuracy).toBe(direct.metrics.top1);
  });

  it('reuses every cell from the engine memo on a second run', async () => {
    using store = Store.open(join(work, 'cache'));
    const memo = store.memo.forKind('sensitivity');
    const p = params({layers: LAYERS, multipliers: ['mul8s_1L2D'], proxy: ['logit-mse']});
    const first = recordedContext(p, join(work, `s${scratch++}`), {memo, kind: sensitivityKind});
    const firstOut = await sensitivityKind.run(first.ctx);
    expect(first.metrics.evaluations).toBe(3);
    expect(store.memo.count('approx/search:')).toBe(3);
    const second = recordedContext(p, join(work, `s${scratch++}`), {memo, kind: sensitivityKind});
    const secondOut = await sensitivityKind.run(second.ctx);
    expect(second.metrics.evaluations).toBe(0);
    expect(secondOut.matrix).toEqual(firstOut.matrix);
    expect(Object.keys((firstOut.matrix as unknown as {value: SensitivityOutput}).value.cells[0]!.metrics!)).toEqual(['logit-mse']);
  });

  it('points bad input at its parameter', async () => {
    const run = (given: Record<string, unknown>) => sensitivityKind.run(recordedContext(params(given), join(work, `s${scratch++}`), {kind: sensitivityKind}).ctx);
    await expect(run({multipliers: ['mul8s_1L2X']})).rejects.toMatchObject({name: 'StepError', param: 'with.multipliers', message: expect.stringContaining('did you mean')});
    await expect(run({multipliers: ['mul8s_1L2H', 'mul8u_1JFF']})).rejects.toMatchObject({param: 'with.multipliers', message: expect.stringContaining('mix operand kinds')});
    await expect(run({multipliers: ['mul8s_1L2H'], layers: ['blocks.9.*']})).rejects.toBeInstanceOf(StepError);
    await expect(run({multipliers: ['mul8s_1L2H'], layers: ['blocks.9.*']})).rejects.toMatchObject({param: 'with.layers'});
  });
});
