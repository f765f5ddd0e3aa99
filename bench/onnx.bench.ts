// ONNX codec throughput on a ViT-Tiny-sized model (dim 192, depth 12, 224 px: ~5.7 M parameters,
// ~23 MB), compared with a plain copy of the same bytes and with onnxruntime's own session creation.
// Run: npx tsx bench/onnx.bench.ts
import {decodeModel, encodeModel} from '../src/onnx/codec.js';
import {createSession} from '../src/onnx/session.js';
import {parameterCount} from '../src/onnx/stats.js';
import {buildVit, VIT_DEFAULTS} from '../src/models/vit.js';

const REPEATS = 10;

async function timeIt(run: () => unknown): Promise<number> {
  for (let i = 0; i < 2; i++) await run(); // warm-up: first runs touch fresh memory
  const started = performance.now();
  for (let i = 0; i < REPEATS; i++) await run();
  return (performance.now() - started) / REPEATS;
}

const model = buildVit({...VIT_DEFAULTS, imageSize: 224, channels: 3, patchSize: 16, dim: 192, depth: 12, heads: 3, mlpRatio: 4, classes: 1000});
const bytes = encodeModel(model);
const mb = bytes.length / 1e6;
const copyMs = await timeIt(() => bytes.slice());
const encodeMs = await timeIt(() => encodeModel(model));
const decodeMs = await timeIt(() => decodeModel(bytes));
const sessionMs = await timeIt(async () => {
  const session = await createSession(bytes, {graphOptimizationLevel: 'disabled'});
  await session.release();
});

const rate = (ms: number) => `${(mb / (ms / 1000) / 1000).toFixed(2)} GB/s`;
console.log(`onnx codec: ViT-Tiny-sized model, ${model.graph.nodes.length} nodes, ${(parameterCount(model.graph) / 1e6).toFixed(2)} M parameters, ${mb.toFixed(1)} MB`);
console.log(`  copy of the bytes   ${copyMs.toFixed(2)} ms (${rate(copyMs)})`);
console.log(`  encodeModel         ${encodeMs.toFixed(2)} ms (${rate(encodeMs)}), ${(encodeMs / copyMs).toFixed(1)}x a copy`);
console.log(`  decodeModel         ${decodeMs.toFixed(2)} ms (${rate(decodeMs)}), ${(decodeMs / copyMs).toFixed(1)}x a copy`);
console.log(`  ORT session create  ${sessionMs.toFixed(2)} ms; decode is ${(decodeMs / sessionMs).toFixed(3)}x of it`);
