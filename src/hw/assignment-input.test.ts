import {expect, test} from 'vitest';
import {readLayerEntries, readOperandHistograms} from './assignment-input.js';

test('reads a manifest with extra fields, multiplier as name or {name, id}', () => {
  const manifest = {
    model: 'vit',
    layers: [
      {node: 'blocks.0.mlp.fc1', op: 'MatMul', macs: 100, multiplier: {name: 'mul8s_1L2H', id: 'abc'}, rank: 1},
      {layer: 'blocks.0.mlp.fc2', macs: 50, multiplier: 'trunc8s_k4'},
    ],
  };
  expect(readLayerEntries(manifest, 'with.manifest')).toEqual([
    {layer: 'blocks.0.mlp.fc1', macs: 100, multiplier: 'mul8s_1L2H', multiplierId: 'abc'},
    {layer: 'blocks.0.mlp.fc2', macs: 50, multiplier: 'trunc8s_k4'},
  ]);
  expect(readLayerEntries([{name: 'fc', macs: 1, multiplier: 'exact8s'}], 'x')).toHaveLength(1);
});

test('names the entry and field at fault', () => {
  expect(() => readLayerEntries({}, 'with.manifest')).toThrow(/with.manifest: expected a manifest with a "layers" list/);
  expect(() => readLayerEntries({layers: []}, 'm')).toThrow(/lists no layers/);
  expect(() => readLayerEntries({layers: [{macs: 1, multiplier: 'x'}]}, 'm')).toThrow(/m.layers\[0\]: no layer name/);
  expect(() => readLayerEntries({layers: [{layer: 'fc', macs: '9', multiplier: 'x'}]}, 'm')).toThrow(/m.layers\[0\] \(fc\): "macs" must be a non-negative number, got "9"/);
  expect(() => readLayerEntries({layers: [{layer: 'fc', macs: 1}]}, 'm')).toThrow(/"multiplier" must be a name or \{name, id\}, got nothing/);
  expect(() => readLayerEntries({layers: [{layer: 'fc', macs: 1, multiplier: 'x'}, {layer: 'fc', macs: 1, multiplier: 'x'}]}, 'm')).toThrow(/listed twice/);
});

test('operand histograms: signed-value bins become raw-byte bins, activation is the row operand unless stated', () => {
  const activation = new Array<number>(256).fill(0);
  activation[128 - 1] = 5; // value -1
  const weight = new Array<number>(256).fill(0);
  weight[128 + 3] = 7; // value 3
  const calibration = {layers: {fc: {operandHistograms: {activation, weight}}, conv: {rowOperand: 'weight', operandHistograms: {activation, weight}}}};
  const histograms = readOperandHistograms(calibration, ['fc', 'conv'], 'with.histograms');
  expect(histograms.get('fc')?.a[0xff]).toBe(5);
  expect(histograms.get('fc')?.b[3]).toBe(7);
  expect(histograms.get('fc')?.weightOperand).toBe('b');
  expect(histograms.get('conv')?.a[3]).toBe(7);
  expect(histograms.get('conv')?.weightOperand).toBe('a');
  expect(() => readOperandHistograms(calibration, ['head'], 'with.histograms')).toThrow(/no operandHistograms for layer head/);
});
