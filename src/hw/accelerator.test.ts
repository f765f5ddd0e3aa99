import {describe, expect, test} from 'vitest';
import type {Multiplier} from '../approx/multiplier.js';
import {costAccelerator, type AcceleratorRequest} from './accelerator.js';
import {missingTools, testTools} from '../../test/support/hw-test-tools.js';
import {MemoryMemo} from '../../test/support/memory-memo.js';

const memo = new MemoryMemo();

const signedByte = (x: number): number => (x << 24) >> 24;

/** A multiplier record whose table is the given function of the operand values. */
function record(name: string, signed: boolean, product: (a: number, b: number) => number, extra: Partial<Multiplier>): Multiplier {
  const table = new Int32Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = signed ? product(signedByte(i >> 8), signedByte(i & 255)) : product(i >> 8, i & 255);
  return {
    name,
    signed,
    bits: 8,
    table,
    id: `id-${name}`,
    provenance: {source: 'generated', description: name},
    hardware: {powerMw: null, areaUm2: null, delayNs: null, technology: null},
    ...extra,
  };
}

const evo = (powerMw: number, areaUm2: number, delayNs: number) => ({
  provenance: {source: 'evoapprox' as const, description: 'EvoApprox'},
  hardware: {powerMw, areaUm2, delayNs, technology: 'PDK45'},
});
// Exact references with EvoApprox's published figures (metrics.csv).
const exactSigned = record('mul8s_1KV8', true, (a, b) => a * b, evo(0.425, 729.8, 1.48));
const exactUnsigned = record('mul8u_1JFF', false, (a, b) => a * b, evo(0.391, 709.6, 1.43));
// A circuit known only by its table and figures (its netlist is not bundled): the table is irrelevant here.
const m1L2H = record('mul8s_1L2H', true, (a, b) => a * b + (a === 1 ? 1 : 0), evo(0.301, 558.9, 1.36));
/** Independent bit-level model of signed truncation: Baugh-Wooley partial products of columns >= k, mod 2^16. */
function truncatedSigned(a: number, b: number, k: number): number {
  let sum = (1 << 8) + (1 << 15);
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 8; j++) {
      const bit = ((a >> j) & (b >> i) & 1) ^ ((i === 7) !== (j === 7) ? 1 : 0);
      if (i + j >= k) sum += bit << (i + j);
    }
  }
  return ((sum & 0xffff) << 16) >> 16;
}
const trunc4 = record('trunc8s_k4', true, (a, b) => truncatedSigned(a & 0xff, b & 0xff, 4), {
  provenance: {source: 'generated', description: 'truncated', family: {name: 'truncated', params: {k: 4}}},
});

function request(layers: AcceleratorRequest['layers'], extra: Partial<AcceleratorRequest> = {}): AcceleratorRequest {
  return {
    layers,
    template: {rows: 4, cols: 4, accWidth: 24, clockMHz: 100, dataflow: 'output-stationary'},
    costModel: 'mac-weighted',
    figures: 'auto',
    exactReferences: {signed: exactSigned, unsigned: exactUnsigned},
    memo,
    ...extra,
  };
}

test('without Yosys: tabulated EvoApprox figures, the TransAxx ratio, and a note saying so', async () => {
  const {report, rtl} = await costAccelerator(request([{layer: 'fc1', macs: 10, multiplier: m1L2H}]), {});
  expect(report.relativePower).toBeCloseTo(0.301 / 0.425, 12);
  expect(report.costModel.figures).toBe('PDK45 (tabulated)');
  expect(report.tools.notes.join('\n')).toMatch(/Yosys is not installed: no synthesis, tabulated figures only/);
  expect(report.tools.notes.join('\n')).toMatch(/give this circuit's netlist as netlists: \{mul8s_1L2H: /);
  expect(rtl).toBeUndefined();
  await expect(costAccelerator(request([{layer: 'fc1', macs: 10, multiplier: trunc4}]), {})).rejects.toThrow(
    /trunc8s_k4 can only be costed by synthesis, and Yosys is not installed/,
  );
});

describe.skipIf(missingTools('yosys', 'sta', 'liberty'))('with Yosys and OpenSTA', () => {
  test('a generated circuit is synthesised and compared with the synthesised exact array; EvoApprox stays tabulated', async () => {
    const layers = [
      {layer: 'fc1', macs: 300, multiplier: trunc4},
      {layer: 'fc2', macs: 100, multiplier: exactSigned},
    ];
    const {report, rtl} = await costAccelerator(request(layers), testTools);
    expect(report.costModel.figures).toMatch(/^Yosys \+ osu018/);
    const trunc = report.multipliers.find((m) => m.name === 'trunc8s_k4');
    const exact = report.multipliers.find((m) => m.name === 'mul8s_1KV8');
    expect(trunc?.tabulated).toBeUndefined();
    expect(trunc?.synthesised?.relativeArea).toBeLessThan(0.9);
    expect(trunc?.synthesised?.relativePower).toBeLessThan(0.95);
    // The exact circuit, tabulated (45 nm) and synthesised (0.18 um): both exactly 1 relative to their own exact.
    expect(exact?.tabulated?.relativePower).toBe(1);
    expect(exact?.synthesised?.relativePower).toBe(1);
    expect(report.exactReferences.tabulated.signed.powerMw).toBe(0.425);
    expect(report.exactReferences.synthesised?.signed.areaUm2).toBeGreaterThan(5000);
    const truncRatio = trunc?.synthesised?.relativePower ?? Number.NaN;
    expect(report.relativePower).toBeCloseTo(0.75 * truncRatio + 0.25, 12);
    expect(report.layers.map((l) => [l.layer, l.relativePower])).toEqual([
      ['fc1', truncRatio],
      ['fc2', 1],
    ]);
    expect(report.groups).toEqual([
      {select: 0, multiplier: 'trunc8s_k4', layers: ['fc1']},
      {select: 1, multiplier: 'mul8s_1KV8', layers: ['fc2']},
    ]);
    expect(Object.keys(rtl?.files ?? {}).sort()).toEqual(['axx_mac_array.v', 'axx_mul8s_1KV8.v', 'axx_pe.v', 'axx_trunc8s_k4.v']);
    // A PE holding two multipliers is larger than the exact PE: reconfigurability costs area.
    expect(report.array?.arrayAreaUm2).toBe((report.array?.peAreaUm2 ?? 0) * 16);
    expect(report.array?.areaSavingPercent).toBeLessThan(0);
  });

  test('energy model adds the synthesised accumulator; a single truncated group saves PE area', async () => {
    const {report} = await costAccelerator(request([{layer: 'fc1', macs: 1000, multiplier: trunc4}], {costModel: 'energy'}), testTools);
    expect(report.energy?.accumulator?.energyPj).toBeGreaterThan(0);
    expect(report.energy?.accumulateUj).toBeCloseTo((report.energy?.accumulator?.energyPj ?? 0) * 1000 * 1e-6, 12);
    const multiplierOnly = report.multipliers[0]?.synthesised?.relativePower ?? Number.NaN;
    expect(report.relativePower).toBeGreaterThan(multiplierOnly);
    expect(report.relativePower).toBeLessThan(1);
    expect(report.array?.areaSavingPercent).toBeGreaterThan(0);
  });

  test('data-aware model: every layer’s power under its own operand activity', async () => {
    const narrow = new Array<number>(256).fill(0);
    for (let q = 0; q < 8; q++) narrow[q] = 1; // small non-negative operands: high bits never switch
    const uniform = new Array<number>(256).fill(1);
    const histograms = new Map([
      ['quiet', {a: narrow, b: narrow, weightOperand: 'b' as const}],
      ['busy', {a: uniform, b: uniform, weightOperand: 'b' as const}],
    ]);
    const cost = (layer: string) =>
      costAccelerator(request([{layer, macs: 1, multiplier: trunc4}], {costModel: 'data-aware', histograms}), testTools);
    const quiet = (await cost('quiet')).report;
    const busy = (await cost('busy')).report;
    expect(quiet.costModel.description).toMatch(/operand activity per layer/);
    expect(busy.relativePower).toBeCloseTo(busy.multipliers[0]?.synthesised?.relativePower ?? Number.NaN, 6);
    // With 3-bit operands the truncated columns hold most of the remaining activity: the saving differs.
    expect(Math.abs(quiet.relativePower - busy.relativePower)).toBeGreaterThan(0.02);
    await expect(cost('other')).rejects.toThrow(/no operand histograms for layer other/);
  });
});

describe.skipIf(missingTools('iverilog', 'vvp'))('RTL verification', () => {
  test('a netlist that does not implement the named circuit is refused, naming the first differing operands', async () => {
    const wrong = new URL('../../test/fixtures/hw/mul8u_handmade.v', import.meta.url).pathname;
    await expect(
      costAccelerator(request([{layer: 'fc1', macs: 1, multiplier: m1L2H}], {netlists: {mul8s_1L2H: wrong}}), testTools),
    ).rejects.toThrow('the RTL of mul8s_1L2H does not implement its table: for operand bytes a=1, b=0 it gives 0, the table says 1 (check the netlist path given for it)');
  });
});
