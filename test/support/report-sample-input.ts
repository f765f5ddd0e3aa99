// A deterministic, realistic report input (a 2-block ViT on MNIST, 10 classes) in the shapes the
// producing steps emit: the tests render it, and so does anyone wanting to look at a report.
import type {ReportInput} from '../../src/report/build-report.js';
import type {AccuracyMetrics} from '../../src/report/sections.js';

const LAYERS = ['block0.qkv', 'block0.proj', 'block0.fc1', 'block0.fc2', 'block1.qkv', 'block1.proj', 'block1.fc1', 'block1.fc2'];
const MACS = [110592, 36864, 147456, 147456, 110592, 36864, 147456, 147456];
const MULTIPLIERS = [
  {name: 'mul8s_1KV8', power: 1},
  {name: 'mul8s_1L2H', power: 0.708},
  {name: 'mul8s_1KX2', power: 0.52},
  {name: 'mul8s_1L12', power: 0.37},
];

function metrics(top1: number, seed: number): AccuracyMetrics {
  const perClass = Array.from({length: 10}, (_, c) => {
    const correct = Math.round(100 * Math.min(1, top1 + 0.01 * (((c * 7 + seed) % 5) - 2)));
    return {name: String(c), count: 100, correct, accuracy: correct / 100};
  });
  const correct = perClass.reduce((sum, c) => sum + c.correct, 0);
  return {count: 1000, top1: correct / 1000, top5: Math.min(1, top1 + 0.012), meanLoss: 0.05 + 3 * (1 - top1) ** 1.5, perClass, confusion: null};
}

/** A tiny deterministic generator so the sample needs no randomness source. */
function pseudo(i: number): number {
  return ((Math.sin(i * 12.9898) * 43758.5453) % 1 + 1) % 1;
}

export function sampleReportInput(): ReportInput {
  const totalMacs = MACS.reduce((a, b) => a + b, 0);
  const baselineAccuracy = 0.982;
  const cells = LAYERS.flatMap((layer, l) =>
    MULTIPLIERS.slice(1).map((m, k) => {
      const drop = Number((0.001 * (k + 1) ** 2 * (1 + (l % 4)) * (0.5 + pseudo(l * 3 + k))).toFixed(4));
      return {layer, multiplier: m.name, accuracy: baselineAccuracy - drop, drop, metrics: {logitKl: drop * 2.1}};
    }),
  );
  const points = Array.from({length: 40}, (_, i) => {
    const assignment = Object.fromEntries(LAYERS.map((layer, l) => [layer, MULTIPLIERS[Math.floor(pseudo(i * 8 + l) * 4)]!.name]));
    const relativePower = LAYERS.reduce((sum, layer, l) => sum + (MACS[l]! / totalMacs) * MULTIPLIERS.find((m) => m.name === assignment[layer])!.power, 0);
    const drop = Number((0.03 * (1 - relativePower) ** 1.3 + 0.004 * pseudo(i + 100)).toFixed(4));
    return {assignment, accuracy: baselineAccuracy - drop, drop, relativePower: Number(relativePower.toFixed(4)), feasible: drop <= 0.01, order: i + 1};
  });
  const best = points.filter((p) => p.feasible).sort((a, b) => a.relativePower - b.relativePower)[0];
  const chosen = best?.assignment ?? {};
  const layerPower = LAYERS.map((layer, l) => ({
    layer,
    macs: MACS[l]!,
    macShare: MACS[l]! / totalMacs,
    multiplier: chosen[layer] ?? 'mul8s_1KV8',
    relativePower: MULTIPLIERS.find((m) => m.name === (chosen[layer] ?? 'mul8s_1KV8'))!.power,
  }));
  const relativePower = layerPower.reduce((sum, l) => sum + l.macShare * l.relativePower, 0);
  return {
    title: 'ViT-MNIST with approximate multipliers',
    notes: 'Sample report: the numbers are synthetic, the shapes are those the steps emit.',
    accuracy: {float: metrics(0.9845, 1), int8: metrics(baselineAccuracy, 2), approximate: metrics(best?.accuracy ?? 0.97, 3), finetuned: metrics(0.979, 4)},
    sensitivity: {format: 'axx-sensitivity', version: 1, baselineAccuracy, layers: LAYERS, multipliers: MULTIPLIERS.map((m) => m.name), cells},
    search: {method: 'mcts', points, ...(best !== undefined ? {best} : {}), baselineAccuracy, maxAccuracyDrop: 0.01, evaluations: points.length},
    finetune: {
      epochs: [
        {epoch: 1, loss: 0.21, trainAccuracy: 0.951, evalAccuracy: 0.975},
        {epoch: 2, loss: 0.12, trainAccuracy: 0.968, evalAccuracy: 0.979},
      ],
      steps: Array.from({length: 50}, (_, i) => ({step: (i + 1) * 4, loss: 0.35 * Math.exp(-i / 15) + 0.08 + 0.02 * pseudo(i + 7)})),
    },
    synthesis: {
      costModel: {name: 'mac-weighted', description: 'TransAxx Σ MAC share × P/P_exact', figures: 'tabulated'},
      relativePower,
      savingPercent: 100 * (1 - relativePower),
      totalMacs,
      layers: layerPower,
      multipliers: MULTIPLIERS.map((m) => ({name: m.name, tabulated: {technology: 'PDK45', powerMw: 0.425 * m.power, areaUm2: 710 * m.power, relativePower: m.power, relativeArea: m.power}})),
      tools: {yosys: null, sta: null, notes: ['Yosys not installed: tabulated EvoApprox figures only']},
    },
    manifest: {
      layers: LAYERS.map((node, l) => ({node, op: 'MatMul', multiplier: {name: chosen[node] ?? 'mul8s_1KV8'}, rank: 1, path: 'int8-exact', macs: MACS[l]!, errorBound: 0.06})),
      macs: {total: totalMacs + 24576, approximated: totalMacs},
    },
  };
}
