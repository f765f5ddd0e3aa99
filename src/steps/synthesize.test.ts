import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import {afterAll, describe, expect, test} from 'vitest';
import {resolveMultiplier} from '../approx/library.js';
import {Store} from '../engine/store/store.js';
import {StepError, type OutputValue, type StepMemo} from '../engine/step-kind.js';
import type {AcceleratorReport} from '../hw/accelerator.js';
import {missingTools} from '../../test/support/hw-test-tools.js';
import {synthesizeKind, type SynthesizeParams} from './synthesize.js';
import {stepContext, keyContext} from '../../test/support/step-context.js';

const work = mkdtempSync(join(tmpdir(), 'axx-synthesize-'));
// One store for the file, so a circuit synthesised by one test is memoised for the next.
const shared = Store.open(join(work, 'shared-store'));
afterAll(() => {
  shared.close();
  rmSync(work, {recursive: true, force: true});
});

/** Validates `with` against the kind's schema (filling defaults), as the engine does. */
const validate = new Ajv2020.default({strict: false, useDefaults: true}).compile(synthesizeKind.schema);

function params(withParams: Record<string, unknown>): SynthesizeParams {
  const copy: unknown = structuredClone(withParams);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as SynthesizeParams;
}

const summaryOf = (outputs: Record<string, OutputValue>): AcceleratorReport => (outputs.summary as {value: unknown}).value as AcceleratorReport;

async function run(withParams: Record<string, unknown>, memo: StepMemo = shared.memo.forKind('synthesize')) {
  const ctx = stepContext(params(withParams), {scratchRoot: work, memo});
  const outputs = await synthesizeKind.run(ctx);
  return {outputs, logs: ctx.logs};
}

async function failure(withParams: Record<string, unknown>): Promise<StepError> {
  const error = await run(withParams).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StepError);
  return error as StepError;
}

test('schema defaults: a 16x16 array, 24-bit accumulators, 100 MHz, TransAxx model', () => {
  expect(params({manifest: {layers: []}})).toMatchObject({
    template: {rows: 16, cols: 16, accWidth: 24, clockMHz: 100, dataflow: 'output-stationary'},
    costModel: 'mac-weighted',
    figures: 'auto',
    netlists: {},
  });
});

test('EvoApprox circuits are costed from their tabulated figures: mul8s_1L2H everywhere -> 0.708', async () => {
  const l2h = resolveMultiplier('mul8s_1L2H');
  const manifest = {
    format: 'axx-manifest',
    layers: [
      {node: 'blocks.0.mlp.fc1', op: 'MatMul', macs: 3000, multiplier: {name: l2h.name, id: l2h.id, signed: true}},
      {node: 'blocks.0.mlp.fc2', op: 'MatMul', macs: 1000, multiplier: {name: l2h.name, id: l2h.id, signed: true}},
    ],
  };
  const {outputs, logs} = await run({manifest});
  const summary = summaryOf(outputs);
  expect(summary.relativePower.toFixed(3)).toBe('0.708');
  expect(summary.savingPercent).toBeCloseTo(29.2, 1);
  expect(logs.join('\n')).toMatch(/give this circuit's netlist as netlists: \{mul8s_1L2H/);
  const report = JSON.parse(readFileSync((outputs.report as {file: string}).file, 'utf8')) as AcceleratorReport;
  expect(report).toEqual(summary);
});

test('the headline counts every multiply of the model: the layers left exact at exact power', async () => {
  const l2h = resolveMultiplier('mul8s_1L2H');
  const layers = [{node: 'blocks.0.mlp.fc1', op: 'MatMul', macs: 4000, multiplier: {name: l2h.name, id: l2h.id, signed: true}}];
  const {outputs, logs} = await run({manifest: {format: 'axx-manifest', layers, macs: {total: 5000, approximated: 4000}}});
  const summary = summaryOf(outputs) as AcceleratorReport & {wholeModel: {relativePower: number; savingPercent: number; approximatedMacs: number}};
  expect(summary.relativePower.toFixed(3)).toBe('0.708');
  // (0.708 · 4000 + 1 · 1000) / 5000
  expect(summary.wholeModel.relativePower).toBeCloseTo((summary.relativePower * 4000 + 1000) / 5000, 12);
  expect(summary.wholeModel).toMatchObject({approximatedMacs: 4000, totalMacs: 5000});
  expect(logs.join('\n')).toContain(`power saving ${summary.wholeModel.savingPercent.toFixed(1)}% of the whole model's multiplies (29.2% in the approximated layers, 80.0% of the MACs)`);
});

describe.skipIf(missingTools('yosys', 'sta', 'liberty', 'iverilog'))('with the EDA tools', () => {
  test('a generated circuit: verified RTL, synthesised figures next to EvoApprox’s, array Verilog', async () => {
    const trunc = resolveMultiplier('trunc8s_k4');
    const manifest = {
      layers: [
        {node: 'fc1', macs: 300, multiplier: {name: trunc.name, id: trunc.id}},
        {node: 'fc2', macs: 100, multiplier: 'mul8s_1KV8'},
      ],
    };
    const {outputs} = await run({manifest, template: {rows: 2, cols: 2}});
    const summary = summaryOf(outputs);
    expect(summary.relativePower).toBeLessThan(1);
    expect(summary.costModel.figures).toMatch(/synthesised/);
    const exact = summary.multipliers.find((m) => m.name === 'mul8s_1KV8');
    expect(exact?.tabulated?.powerMw).toBe(0.425);
    expect(exact?.synthesised?.technology).toMatch(/osu018/);
    const files = readdirSync((outputs.verilog as {dir: string}).dir).sort();
    expect(files).toEqual(['axx_mac_array.v', 'axx_mul8s_1KV8.v', 'axx_pe.v', 'axx_trunc8s_k4.v', 'groups.json']);
  });

  test('figures are memoised in the engine store the step is given, not in a directory of their own', async () => {
    // The step once kept them under cache/hw relative to the working directory: outside --cache, unseen by
    // gc and cache verify, never invalidated, and with that path in its cache key.
    expect(synthesizeKind.schema.properties).not.toHaveProperty('synthesisCache');
    using store = Store.open(join(work, 'store'));
    const manifest = [{layer: 'fc1', macs: 10, multiplier: 'trunc8s_k6'}];
    const first = summaryOf((await run({manifest, template: {rows: 1, cols: 1}}, store.memo.forKind('synthesize'))).outputs);
    const entries = store.memo.count('hw/');
    expect(entries).toBeGreaterThan(0);
    const again = summaryOf((await run({manifest, template: {rows: 1, cols: 1}}, store.memo.forKind('synthesize'))).outputs);
    expect(again).toEqual(first);
    expect(store.memo.count('hw/')).toBe(entries);
  });
});

describe.skipIf(missingTools('yosys', 'sta', 'liberty', 'iverilog'))('data-aware power from a calibration', () => {
  test('each layer is costed under its own operands’ bit activity', async () => {
    const operandCounts = (values: number[]): number[] => {
      const counts = new Array<number>(256).fill(0);
      for (const value of values) counts[value & 0xff]! += 1;
      return counts;
    };
    const statistics = (role: 'activation' | 'weight', values: number[]) => ({
      role,
      max: 1,
      amax: 1,
      histogram: {range: 1, counts: new Array<number>(2048).fill(0)},
      operandCounts: operandCounts(values),
    });
    const calibration = {
      format: 'axx-calibration',
      version: 1,
      method: 'percentile',
      percentile: 99.99,
      samples: 8,
      batches: 1,
      values: {
        small: statistics('activation', [0, 1, 2, 3]),
        wide: statistics('activation', [-100, -7, 5, 90, 127, -128]),
        w: statistics('weight', [-3, -1, 1, 2]),
      },
      layers: [
        {node: 'quiet', op: 'MatMul', kind: 'weight', operands: ['small', 'w']},
        {node: 'busy', op: 'MatMul', kind: 'weight', operands: ['wide', 'w']},
      ],
    };
    const path = join(work, 'calibration.json');
    writeFileSync(path, JSON.stringify(calibration));
    const cost = async (node: string) =>
      summaryOf(
        (
          await run({
            manifest: [{layer: node, macs: 10, multiplier: 'trunc8s_k4', tableRow: 'first'}],
            costModel: 'data-aware',
            histograms: path,
            template: {rows: 1, cols: 1, dataflow: 'weight-stationary'},
          })
        ).outputs,
      );
    const quiet = await cost('quiet');
    const busy = await cost('busy');
    expect(quiet.costModel.name).toBe('data-aware');
    expect(quiet.relativePower).toBeLessThan(1);
    expect(busy.relativePower).toBeLessThan(1);
    expect(quiet.relativePower).not.toBeCloseTo(busy.relativePower, 2);
  });
});

test('the cache key covers the circuits names resolve to and the tool versions', async () => {
  const extras = (manifest: unknown) => synthesizeKind.keyExtras?.(params({manifest}), keyContext) as Promise<Record<string, unknown>>;
  const one = await extras([{layer: 'fc', macs: 1, multiplier: 'exact8s'}]);
  expect(one.multipliers).toEqual([resolveMultiplier('mul8s_1KV8').id]);
  expect(one).toHaveProperty('yosys');
  expect(one).toHaveProperty('liberty');
  expect((await extras([{layer: 'fc', macs: 1, multiplier: 'trunc8s_k4'}])).multipliers).not.toEqual(one.multipliers);
  expect((await extras({})).multipliers).toBe('unresolved');
});

test('bad input gets a StepError naming the parameter', async () => {
  const missingLayers = await failure({manifest: {}});
  expect(missingLayers.param).toBe('with.manifest');
  expect(missingLayers.message).toMatch(/expected a manifest with a "layers" list/);
  const unknown = await failure({manifest: [{layer: 'fc', macs: 1, multiplier: 'mul8s_NOPE'}]});
  expect(unknown.message).toMatch(/layer fc: .*mul8s_NOPE/);
  const stale = await failure({manifest: [{layer: 'fc', macs: 1, multiplier: {name: 'mul8s_1L2H', id: 'deadbeef'}}]});
  expect(stale.message).toMatch(/resolves to a different circuit/);
  const noCalibration = await failure({manifest: [{layer: 'fc', macs: 1, multiplier: 'mul8s_1L2H'}], histograms: join(work, 'none.json')});
  expect(noCalibration.param).toBe('with.histograms');
});
