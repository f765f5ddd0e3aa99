// Approximate-layer emulation speed: a ViT-Tiny-sized model (dim 192, 3 heads, 224 px, patch 16)
// run by onnxruntime (same session settings) as float, and rewritten with the exact circuit
// (int8 path), mul8s_1L2H (rank 1), mul8s_1KX2 (rank 5) and mul8u_12N4 (unsigned, rank 90: the int8
// lookup path), each time relative to float; plus the direct-lookup reference's speed on the qkv layer,
// extrapolated per MAC to the whole model. Goals: ≤ 1.5× (rank 1), ≤ 6× (rank ≤ 5), ≤ 30× (rank 90).
// Run: npx tsx bench/approx.bench.ts  (AXX_BENCH_DEPTH=12 for the full 12 blocks; default 4)
import * as ort from 'onnxruntime-node';
import {runCalibration} from '../src/approx/calibration-run.js';
import {operandTable} from '../src/approx/emulate/operand-table.js';
import {quantizeTensor, quantScale} from '../src/approx/quantize.js';
import {referenceMatMul} from '../src/approx/reference.js';
import {resolveMultiplier} from '../src/approx/library.js';
import {approximateModel} from '../src/approx/rewrite.js';
import {Random} from '../src/util/random.js';
import {randomFloats} from '../test/support/rewrite-test-models.js';
import {buildVit, VIT_DEFAULTS} from '../src/models/vit.js';
import type {Model} from '../src/onnx/ir.js';
import {createSession} from '../src/onnx/session.js';
import {layerMacs} from '../src/onnx/stats.js';

const THREADS = 2;
const BATCH = 4;
const REPEATS = 7;
const depth = Number(process.env['AXX_BENCH_DEPTH'] ?? 4);
const config = {...VIT_DEFAULTS, imageSize: 224, channels: 3, patchSize: 16, dim: 192, depth, heads: 3, mlpRatio: 4, classes: 1000};
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;

const float = buildVit(config);
const rng = new Random(1);
const x = Float32Array.from(randomFloats(rng, BATCH * 3 * 224 * 224), (v) => Math.abs(v));
const feeds = {input: new ort.Tensor('float32', x, [BATCH, 3, 224, 224])};
const calibration = await runCalibration(float, () => [{x, count: BATCH}], {createSession, threads: THREADS});

async function timeModel(model: Model): Promise<number> {
  using session = await createSession(model, {intraOpNumThreads: THREADS});
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    await session.run(feeds);
    times.push(performance.now() - start);
  }
  return median(times);
}

const exactMs = await timeModel(float);
const macs = layerMacs(float).reduce((sum, l) => sum + (l.macs ?? 0), 0) * BATCH;
console.log(`ViT dim 192, depth ${depth}, batch ${BATCH}, ${THREADS} threads, ${(macs / 1e9).toFixed(2)} GMAC: float ${exactMs.toFixed(1)} ms`);

const circuits = [
  {name: 'mul8s_1KV8', label: 'exact circuit', goal: 1.5, attention: false},
  {name: 'mul8s_1L2H', label: 'rank 1', goal: 1.5, attention: false},
  {name: 'mul8s_1KX2', label: 'rank 5', goal: 6, attention: false},
  {name: 'mul8u_12N4', label: 'unsigned high rank', goal: 30, attention: false},
  {name: 'mul8s_1L2H', label: 'rank 1 + attention', goal: 1.5, attention: true},
  {name: 'mul8s_1KX2', label: 'rank 5 + attention', goal: 6, attention: true},
];
for (const {name, label, goal, attention} of circuits) {
  if (process.env['AXX_BENCH_ONLY'] && !label.includes(process.env['AXX_BENCH_ONLY'])) continue;
  const start = performance.now();
  const {model, manifest} = approximateModel(float, {calibration, resolveMultiplier, default: name, attention});
  const rewriteMs = performance.now() - start;
  const ms = await timeModel(model);
  const paths = [...new Set(manifest.layers.map((l) => `${l.path}/r${l.rank}`))].join(', ');
  const verdict = ms / exactMs <= goal ? ` (goal ≤ ${goal}×: met)` : ` (goal ≤ ${goal}×: MISSED)`;
  console.log(`${name.padEnd(11)} ${label.padEnd(20)} ${ms.toFixed(1).padStart(7)} ms = ${(ms / exactMs).toFixed(2)}× float${verdict}; ${manifest.layers.length} layers [${paths}], rewrite ${rewriteMs.toFixed(0)} ms`);
}

// The direct-lookup reference on blocks.0.attn.qkv (M = batch·197, K = 192, N = 576).
const circuit = resolveMultiplier('mul8s_1L2H');
const table = operandTable(circuit.table, true);
const m = BATCH * 197;
const qa = quantizeTensor(randomFloats(rng, m * 192), quantScale(1).step);
const qw = quantizeTensor(randomFloats(rng, 192 * 576), quantScale(1).step);
const start = performance.now();
referenceMatMul(table, qa, qw, {batch: 1, m, k: 192, n: 576});
const lookupNsPerMac = ((performance.now() - start) * 1e6) / (m * 192 * 576);
const approxMs = await timeModel(approximateModel(float, {calibration, resolveMultiplier, default: 'mul8s_1L2H'}).model);
const referenceMs = (lookupNsPerMac * macs) / 1e6;
console.log(`direct lookup (TypeScript, 1 thread): ${lookupNsPerMac.toFixed(2)} ns/MAC → whole model ≈ ${referenceMs.toFixed(0)} ms; rank-1 rewrite is ${(referenceMs / approxMs).toFixed(0)}× faster`);
