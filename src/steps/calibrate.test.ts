import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {writeClassOrderedMnist} from '../../test/support/class-ordered-mnist.js';
import {stepContext} from '../../test/support/step-context.js';
import {calibrateKind, type CalibrateParams} from './calibrate.js';

const model = fileURLToPath(new URL('../../assets/models/vit-mnist.onnx', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'axx-calibrate-'));
const ordered = join(work, 'mnist-class-ordered');
afterAll(() => rmSync(work, {recursive: true, force: true}));

beforeAll(() => writeClassOrderedMnist(ordered, 500));

const validate = new Ajv2020.default({strict: false, useDefaults: true}).compile(calibrateKind.schema);
function params(given: Record<string, unknown>): CalibrateParams {
  const copy = structuredClone(given);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as unknown as CalibrateParams;
}

async function calibrate(given: Record<string, unknown>) {
  const ctx = stepContext(params({model, dataset: ordered, batches: 2, batchSize: 10, ...given}), {scratchRoot: work});
  const out = await calibrateKind.run(ctx);
  return {file: JSON.parse(readFileSync((out.calibration as {file: string}).file, 'utf8')), logs: ctx.logs};
}

describe('calibrate', () => {
  it('calibrates on a seeded subset stratified over the classes, and records it', async () => {
    const {file, logs} = await calibrate({});
    expect(file.samples).toBe(20);
    expect(file.subset).toMatchObject({order: 'stratified', seed: 0, count: 20, perClass: new Array(10).fill(2), missingClasses: []});
    expect(logs.at(-1)).toMatch(/on 20 samples \(stratified, seed 0; percentile 99\.99\)$/);
  });

  it('takes the first samples with order file, and warns that classes are left out', async () => {
    const {file, logs} = await calibrate({order: 'file'});
    expect(file.subset.perClass.slice(0, 2).reduce((a: number, b: number) => a + b, 0)).toBe(20);
    expect(logs).toContainEqual(expect.stringMatching(/^warning: the 20-sample subset \(order file\) has no sample of \d of 10 classes/));
  });
});
