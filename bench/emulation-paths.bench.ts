// Which exact formulation of a high-rank table is fastest, and does the planner's cost model
// (src/approx/emulate/plan.ts, GEMM_COST) pick it? On the ViT of bench/approx.bench.ts (dim 192,
// 224 px, patch 16), every approximable layer on one circuit, each formulation's time relative to
// float, measured interleaved (float, A, B, float, A, B …) so load on the machine hits all alike.
// Then every unsigned EvoApprox circuit's ratio on the formulation the planner chooses, and what the int8
// MatMulInteger operands written for onnxruntime's CUDA provider (`approximate`'s target: cuda) cost on the CPU.
// Run: npx tsx bench/emulation-paths.bench.ts  (AXX_BENCH_DEPTH blocks, default 1; AXX_BENCH_ALL=0 skips the list)
// AXX_BENCH_ONLY=operands runs only the last part.
import * as ort from 'onnxruntime-node';
import {runCalibration} from '../src/approx/calibration-run.js';
import {planCost, planEmulation, type EmulationPath} from '../src/approx/emulate/plan.js';
import {operandTable} from '../src/approx/emulate/operand-table.js';
import {evoApproxRecords, resolveMultiplier} from '../src/approx/library.js';
import type {IntegerOperands} from '../src/approx/emulate/emit-layer.js';
import {approximateModel} from '../src/approx/rewrite.js';
import {randomFloats} from '../test/support/rewrite-test-models.js';
import {Random} from '../src/util/random.js';
import {buildVit, VIT_DEFAULTS} from '../src/models/vit.js';
import type {Model} from '../src/onnx/ir.js';
import {createSession, type ModelSession} from '../src/onnx/session.js';

const THREADS = 2;
const BATCH = 2;
const ROUNDS = 5;
const depth = Number(process.env['AXX_BENCH_DEPTH'] ?? 1);
const config = {...VIT_DEFAULTS, imageSize: 224, channels: 3, patchSize: 16, dim: 192, depth, heads: 3, mlpRatio: 4, classes: 1000};
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;

const float = buildVit(config);
const x = Float32Array.from(randomFloats(new Random(1), BATCH * 3 * 224 * 224), (v) => Math.abs(v));
const feeds = {input: new ort.Tensor('float32', x, [BATCH, 3, 224, 224])};
const calibration = await runCalibration(float, () => [{x, count: BATCH}], {createSession, threads: THREADS});

/** Median time of each model over ROUNDS rounds, the models run one after another in every round. */
async function interleaved(models: Model[]): Promise<number[]> {
  const sessions: ModelSession[] = [];
  try {
    for (const model of models) sessions.push(await createSession(model, {intraOpNumThreads: THREADS}));
    for (const session of sessions) await session.run(feeds);
    const times = models.map(() => [] as number[]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, session] of sessions.entries()) {
        const start = performance.now();
        await session.run(feeds);
        times[i]!.push(performance.now() - start);
      }
    }
    return times.map(median);
  } finally {
    for (const session of sessions) await session.release();
  }
}

const approximate = (name: string, paths?: EmulationPath[], integerOperands: IntegerOperands = 'uint8') =>
  approximateModel(float, {calibration, resolveMultiplier, default: name, integerOperands, ...(paths ? {emulationPaths: paths} : {})});
const only = process.env['AXX_BENCH_ONLY'];
console.log(`ViT dim 192, depth ${depth}, batch ${BATCH}, ${THREADS} threads; times relative to float, interleaved, median of ${ROUNDS}`);

// 1. fp64 low rank vs the int8 lookup on weight layers (MatMul/Gemm, K = 192 and 768), around and past the crossover.
const K = 768;
let agree = 0;
const sweep = ['mul8u_DM1', 'mul8u_RCG', 'mul8u_185Q', 'mul8u_19DB', 'mul8u_NGR', 'mul8u_2HH', 'mul8u_L40', 'mul8u_12N4'];
for (const name of only === 'operands' ? [] : sweep) {
  const m = resolveMultiplier(name);
  const table = operandTable(m.table, m.signed);
  const costs = (['lowrank-fp64', 'lookup-int8'] as const).map((path) => {
    const plan = planEmulation(table, K, {fp64Allowed: true, activationSide: 'u', other: 'weight', paths: [path]});
    return 'error' in plan ? Infinity : planCost(plan);
  });
  const [fp64, lookup] = [approximate(name, ['lowrank-fp64', 'lookup-fp32']), approximate(name, ['lookup-int8', 'lookup-fp32'])];
  const [floatMs, fp64Ms, lookupMs] = await interleaved([float, fp64.model, lookup.model]);
  const predicted = costs[0]! <= costs[1]! ? 'lowrank-fp64' : 'lookup-int8';
  const measured = fp64Ms! <= lookupMs! ? 'lowrank-fp64' : 'lookup-int8';
  if (predicted === measured) agree++;
  const weightLayer = (manifest: typeof fp64.manifest) => manifest.layers.find((l) => l.op !== 'Conv')!;
  const {path, rank} = weightLayer(fp64.manifest);
  console.log(
    `${name.padEnd(11)} rank ${String(rank).padStart(3)}: ${path} ${(fp64Ms! / floatMs!).toFixed(1).padStart(6)}×, lookup-int8/r${weightLayer(lookup.manifest).rank} ${(lookupMs! / floatMs!).toFixed(1).padStart(6)}×` +
      ` (cost ${costs[0]!.toFixed(0)} vs ${costs[1]!.toFixed(0)}); model picks ${predicted}, faster: ${measured}`,
  );
}
if (only !== 'operands') console.log(`cost model picked the faster formulation for ${agree}/${sweep.length} circuits`);

// 2. Every unsigned EvoApprox circuit on the formulation the planner chooses.
if (process.env['AXX_BENCH_ALL'] !== '0' && only !== 'operands') {
  for (const [name, record] of evoApproxRecords()) {
    if (record.signed) continue;
    const {model, manifest} = approximate(name);
    const [floatMs, ms] = await interleaved([float, model]);
    const paths = [...new Set(manifest.layers.map((l) => `${l.path}/r${l.rank}`))].join(', ');
    console.log(`${name.padEnd(11)} ${(ms! / floatMs!).toFixed(1).padStart(6)}× float [${paths}]`);
  }
}

// 3. uint8 (target cpu) vs int8 (target cuda) MatMulInteger operands, both on the CPU provider: one per integer path.
for (const name of ['mul8s_1KV8', 'mul8s_1L2H', 'mul8u_1446', 'mul8u_12N4']) {
  const [unsigned, signed] = [approximate(name, undefined, 'uint8'), approximate(name, undefined, 'int8')];
  const [floatMs, uint8Ms, int8Ms] = await interleaved([float, unsigned.model, signed.model]);
  const paths = [...new Set(unsigned.manifest.layers.map((l) => l.path))].join(', ');
  console.log(`${name.padEnd(11)} uint8 operands ${(uint8Ms! / floatMs!).toFixed(1).padStart(5)}× float, int8 ${(int8Ms! / floatMs!).toFixed(1).padStart(5)}× float: int8 / uint8 ${(int8Ms! / uint8Ms!).toFixed(2)} [${paths}]`);
}
