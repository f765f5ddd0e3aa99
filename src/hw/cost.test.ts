import {describe, expect, test} from 'vitest';
import type {Multiplier} from '../approx/multiplier.js';
import {dataAwarePowerModel, energyModel, macWeightedPowerModel} from './cost.js';
import {measuredSource, tabulatedSource, type CircuitFigures} from './figures.js';

/** A multiplier record with only what the cost models read (the table is not used by them). */
function circuit(name: string, signed: boolean, powerMw: number | null, areaUm2: number | null = null): Multiplier {
  return {
    name,
    signed,
    bits: 8,
    table: new Int32Array(0),
    id: `id-${name}`,
    provenance: {source: powerMw === null ? 'generated' : 'evoapprox', description: name},
    hardware: {powerMw, areaUm2, delayNs: null, technology: powerMw === null ? null : 'PDK45'},
  };
}

// Figures from EvoApprox's metrics.csv (PDK45_PWR, mW).
const exactSigned = circuit('mul8s_1KV8', true, 0.425, 729.8);
const exactUnsigned = circuit('mul8u_1JFF', false, 0.391, 709.6);
const m1L2H = circuit('mul8s_1L2H', true, 0.301, 558.9);
const m1KR3 = circuit('mul8s_1KR3', true, 0.052, 172.2);
const m17KS = circuit('mul8u_17KS', false, 0.104, 239.3);
const tabulated = tabulatedSource(exactSigned, exactUnsigned);

describe('mac-weighted (TransAxx) model', () => {
  const model = macWeightedPowerModel(tabulated);

  test('one circuit everywhere gives its power ratio: mul8s_1L2H -> 0.708', () => {
    const ratio = model.relativePower([
      {layer: 'fc1', macs: 1000, multiplier: m1L2H},
      {layer: 'fc2', macs: 3000, multiplier: m1L2H},
    ]);
    expect(ratio).toBeCloseTo(0.301 / 0.425, 12);
    expect(ratio.toFixed(3)).toBe('0.708');
  });

  test('weights each layer by its MAC share, against the exact circuit of its own operand kind', () => {
    const ratio = model.relativePower([
      {layer: 'qkv', macs: 3, multiplier: m1KR3},
      {layer: 'proj', macs: 1, multiplier: exactSigned},
      {layer: 'fc', macs: 4, multiplier: m17KS},
    ]);
    expect(ratio).toBeCloseTo((3 / 8) * (0.052 / 0.425) + (1 / 8) * 1 + (4 / 8) * (0.104 / 0.391), 12);
  });

  test('bad assignments are refused with the reason', () => {
    expect(() => model.relativePower([])).toThrow(/lists no layers/);
    expect(() => model.relativePower([{layer: 'fc', macs: -1, multiplier: m1L2H}])).toThrow(/layer fc has MACs -1/);
    expect(() => model.relativePower([{layer: 'fc', macs: 0, multiplier: m1L2H}])).toThrow(/every layer has 0 MACs/);
    const generated = circuit('trunc8s_k4', true, null);
    expect(() => model.relativePower([{layer: 'fc', macs: 1, multiplier: generated}])).toThrow(/trunc8s_k4 has no tabulated power .*synthesis/);
  });
});

describe('energy model', () => {
  test('Σ MACs × (multiplier + accumulate energy); the accumulator dilutes the relative saving', () => {
    const model = energyModel(tabulated, {clockMHz: 100, accumulatePj: 2});
    const layers = [{layer: 'fc', macs: 1e6, multiplier: m1L2H}];
    const energy = model.energy(layers);
    // 0.301 mW at 100 MHz = 3.01 pJ per multiplication; 1e6 MACs -> 3.01 µJ + 2 µJ accumulate.
    expect(energy.multiplyUj).toBeCloseTo(3.01, 9);
    expect(energy.accumulateUj).toBeCloseTo(2, 9);
    expect(energy.exactUj).toBeCloseTo(4.25 + 2, 9);
    expect(model.relativePower(layers)).toBeCloseTo(5.01 / 6.25, 12);
    expect(model.relativePower(layers)).toBeGreaterThan(macWeightedPowerModel(tabulated).relativePower(layers));
  });

  test('rejects a non-positive clock', () => {
    expect(() => energyModel(tabulated, {clockMHz: 0, accumulatePj: 0})).toThrow(/clockMHz must be > 0/);
  });
});

describe('measured figures', () => {
  const figures = (multiplier: Multiplier, powerMw: number): CircuitFigures => ({
    multiplier: multiplier.name,
    id: multiplier.id,
    source: 'synthesised',
    technology: 'osu018',
    powerMw,
    areaUm2: null,
    delayNs: null,
  });
  const trunc = circuit('trunc8s_k4', true, null);

  test('a synthesised source compares against the synthesised exact circuit, not the tabulated one', () => {
    const source = measuredSource('test', new Map([[trunc.id, figures(trunc, 1.5)]]), {
      signed: figures(exactSigned, 2),
      unsigned: figures(exactUnsigned, 1.8),
    });
    expect(macWeightedPowerModel(source).relativePower([{layer: 'fc', macs: 1, multiplier: trunc}])).toBe(0.75);
    expect(() => source.figures(m1L2H)).toThrow(/mul8s_1L2H was not costed by test/);
  });

  test('data-aware model sums each layer’s own measured power', () => {
    const model = dataAwarePowerModel({
      byLayer: new Map([
        ['fc1', new Map([[trunc.id, 1]])],
        ['fc2', new Map([[trunc.id, 3]])],
      ]),
      exactByLayer: new Map([
        ['fc1', 2],
        ['fc2', 4],
      ]),
      source: 'test',
    });
    const ratio = model.relativePower([
      {layer: 'fc1', macs: 10, multiplier: trunc},
      {layer: 'fc2', macs: 30, multiplier: trunc},
    ]);
    expect(ratio).toBeCloseTo((10 * 1 + 30 * 3) / (10 * 2 + 30 * 4), 12);
    expect(() => model.relativePower([{layer: 'fc3', macs: 1, multiplier: trunc}])).toThrow(/no measurement for layer fc3/);
  });
});
