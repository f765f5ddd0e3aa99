import {expect, test} from 'vitest';
import type {CalibrationFile} from '../approx/calibration-format.js';
import {readLayerEntries, readOperandHistograms} from './assignment-input.js';
import {HwError} from './hw-error.js';

test('reads a manifest with extra fields, multiplier as name or {name, id}', () => {
  const manifest = {
    model: 'vit',
    layers: [
      {node: 'blocks.0.mlp.fc1', op: 'MatMul', macs: 100, multiplier: {name: 'mul8s_1L2H', id: 'abc'}, rank: 1, tableRow: 'first'},
      {layer: 'blocks.0.mlp.fc2', macs: 50, multiplier: 'trunc8s_k4'},
      {layer: 'blocks.1.mlp.fc1', macs: 10, multiplier: {name: 'drum8u_k4', id: 'd', signed: false, operands: 'sign-magnitude wrapper'}},
    ],
  };
  expect(readLayerEntries(manifest, 'with.manifest')).toEqual([
    {layer: 'blocks.0.mlp.fc1', macs: 100, multiplier: 'mul8s_1L2H', multiplierId: 'abc', tableRow: 'first'},
    {layer: 'blocks.0.mlp.fc2', macs: 50, multiplier: 'trunc8s_k4'},
    {layer: 'blocks.1.mlp.fc1', macs: 10, multiplier: 'drum8u_k4', multiplierId: 'd', signMagnitude: true},
  ]);
  expect(readLayerEntries([{name: 'fc', macs: 1, multiplier: 'exact8s'}], 'x')).toHaveLength(1);
});

test('names the entry and field at fault', () => {
  expect(() => readLayerEntries({}, 'with.manifest')).toThrow(/with.manifest: expected a manifest with a "layers" list/);
  expect(() => readLayerEntries({layers: []}, 'm')).toThrow(/lists no layers/);
  expect(() => readLayerEntries({layers: [{macs: 1, multiplier: 'x'}]}, 'm')).toThrow(/m.layers\[0\]: no layer name/);
  expect(() => readLayerEntries({layers: [{layer: 'fc', macs: '9', multiplier: 'x'}]}, 'm')).toThrow(/m.layers\[0\] \(fc\): "macs" must be a non-negative number, got "9"/);
  expect(() => readLayerEntries({layers: [{layer: 'fc', macs: null, multiplier: 'x'}]}, 'm')).toThrow(/MACs unknown/);
  expect(() => readLayerEntries({layers: [{layer: 'fc', macs: 1}]}, 'm')).toThrow(/"multiplier" must be a name or \{name, id\}, got nothing/);
  expect(() => readLayerEntries({layers: [{layer: 'fc', macs: 1, multiplier: 'x'}, {layer: 'fc', macs: 1, multiplier: 'x'}]}, 'm')).toThrow(/listed twice/);
});

test('operand histograms from a calibration: the manifest’s tableRow, else first operand (Conv: weight) is the row', () => {
  const counts = (value: number, count: number): number[] => {
    const bins = new Array<number>(256).fill(0);
    bins[value & 0xff] = count;
    return bins;
  };
  const statistics = (role: 'activation' | 'weight', operandCounts: number[]) => ({role, max: 1, amax: 1, histogram: {range: 1, counts: []}, operandCounts});
  const calibration: CalibrationFile = {
    format: 'axx-calibration',
    version: 1,
    method: 'percentile',
    percentile: 99.99,
    samples: 1,
    batches: 1,
    values: {x: statistics('activation', counts(-1, 5)), w: statistics('weight', counts(3, 7)), cw: statistics('weight', counts(9, 2))},
    layers: [
      {node: 'fc', op: 'MatMul', kind: 'weight', operands: ['x', 'w']},
      {node: 'conv', op: 'Conv', kind: 'weight', operands: ['x', 'cw']},
      {node: 'broken', op: 'MatMul', kind: 'weight', operands: ['x', 'nope']},
    ],
  };
  const histograms = readOperandHistograms(calibration, [{layer: 'fc'}, {layer: 'conv'}], 'with.histograms');
  expect(histograms.get('fc')).toMatchObject({weightOperand: 'b'});
  expect(histograms.get('fc')?.a[0xff]).toBe(5);
  expect(histograms.get('fc')?.b[3]).toBe(7);
  expect(histograms.get('conv')?.a[9]).toBe(2);
  expect(histograms.get('conv')?.weightOperand).toBe('a');
  expect(readOperandHistograms(calibration, [{layer: 'fc', tableRow: 'second'}], 'h').get('fc')?.a[3]).toBe(7);
  expect(() => readOperandHistograms(calibration, [{layer: 'head'}], 'with.histograms')).toThrow(/no layer head/);
  expect(() => readOperandHistograms(calibration, [{layer: 'broken'}], 'with.histograms')).toThrow(/lacks statistics of nope/);
});

test('bad input is a HwError, which callers map by type (not by message)', () => {
  for (const input of [{}, [], [{layer: 'fc', macs: -1, multiplier: 'x'}]]) {
    expect(() => readLayerEntries(input, 'with.manifest')).toThrow(HwError);
  }
});
