// Engine overheads, measured in one process after start-up:
//  1. load + plan + cache check of a fully cached 50-step pipeline (goal < 150 ms),
//  2. expansion + plan of a 1000-instance matrix (goal < 1 s),
//  3. CAS throughput: hashing + publishing one large file, and a directory of many small files.
// Run: npx tsx bench/engine.bench.ts
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {cpus, loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import {inProcessExecutor} from '../src/engine/executor.js';
import {planPipeline} from '../src/engine/plan.js';
import {runPipeline} from '../src/engine/run-pipeline.js';
import {loadPipelineFile} from '../src/engine/spec/load-pipeline.js';
import {Store} from '../src/engine/store/store.js';
import {stepKinds} from '../src/steps/index.js';

const root = mkdtempSync(join(tmpdir(), 'axx-bench-engine-'));
const ms = (t0: number): number => performance.now() - t0;

async function load(file: string) {
  const loaded = await loadPipelineFile(file, {kinds: stepKinds});
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.error, null, 2));
  return loaded.value;
}

// 1. A 50-step pipeline: 10 chains of 5 exec steps, each reading its predecessor's output and one data file.
writeFileSync(join(root, 'data.txt'), 'x'.repeat(1 << 20));
const steps: string[] = [];
for (let chain = 0; chain < 10; chain++) {
  for (let i = 0; i < 5; i++) {
    const inputs = i === 0 ? '["data.txt"]' : `["\${{ steps.s${chain}_${i - 1}.outputs.o }}", "data.txt"]`;
    steps.push(`  s${chain}_${i}:\n    uses: exec\n    with:\n      run: "cat $AXX_IN_0 | head -c 64 > o; echo ${chain}-${i} >> o"\n      inputs: ${inputs}\n      outputs: {o: {path: o}}`);
  }
}
const fiftyFile = join(root, 'fifty.yaml');
writeFileSync(fiftyFile, `name: fifty\nsteps:\n${steps.join('\n')}\n`);
const store = Store.open(join(root, 'cache'));
const cwd = process.cwd();
process.chdir(root); // exec resolves relative input paths against the working directory
const first = await runPipeline(await load(fiftyFile), {
  store,
  executors: {'in-process': inProcessExecutor, 'child-process': inProcessExecutor},
  defaultExecutor: 'in-process',
  emit: () => undefined,
  hostEnvironment: {},
  signal: new AbortController().signal,
  concurrency: 2,
  budget: {cpu: 2},
  command: 'bench',
});
if (first.counts.ran !== 50) throw new Error(`expected 50 steps to run, got ${JSON.stringify(first.counts)}`);
const planTimes: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const plan = await planPipeline(await load(fiftyFile), store, {hostEnvironment: {}});
  planTimes.push(ms(t0));
  if (plan.some((p) => p.status !== 'cached')) throw new Error('expected a fully cached plan');
}
const t1 = performance.now();
const cachedRun = await runPipeline(await load(fiftyFile), {
  store,
  executors: {'in-process': inProcessExecutor, 'child-process': inProcessExecutor},
  defaultExecutor: 'in-process',
  emit: () => undefined,
  hostEnvironment: {},
  signal: new AbortController().signal,
  concurrency: 2,
  budget: {cpu: 2},
  command: 'bench',
});
const cachedRunMs = ms(t1);
process.chdir(cwd);
const firstPlan = planTimes[0]!;
const medianPlan = [...planTimes].sort((a, b) => a - b)[Math.floor(planTimes.length / 2)]!;
console.log(
  `50-step fully cached pipeline: load+plan+cache check ${firstPlan.toFixed(1)} ms in a fresh process, median of 5 ${medianPlan.toFixed(1)} ms (goal < 150 ms: ${medianPlan < 150 ? 'met' : 'MISSED'}); full cached run ${cachedRunMs.toFixed(1)} ms (${cachedRun.counts.cached} cached); load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs`,
);

// 2. A 1000-instance matrix (40 layers × 25 multipliers) plus a step that gathers all outputs.
const layers = Array.from({length: 40}, (_, i) => `l${i}`);
const mults = Array.from({length: 25}, (_, i) => `m${i}`);
const matrixFile = join(root, 'matrix.yaml');
writeFileSync(
  matrixFile,
  `name: matrix
params: {mults: ${JSON.stringify(mults)}}
steps:
  sens:
    uses: exec
    matrix: {layer: ${JSON.stringify(layers)}, mult: "\${{ params.mults }}"}
    with:
      run: "echo \${{ matrix.layer }} \${{ matrix.mult }} > o"
      outputs: {o: {path: o}}
  gather:
    uses: exec
    with:
      run: "cat $AXX_INPUTS > all"
      inputs: ["\${{ steps.sens.outputs.o }}"]
      outputs: {all: {path: all}}
`,
);
const t2 = performance.now();
const matrixPipeline = await load(matrixFile);
const expandMs = ms(t2);
const t3 = performance.now();
const matrixPlan = await planPipeline(matrixPipeline, store, {hostEnvironment: {}});
const planMs = ms(t3);
const toRun = matrixPlan.filter((p) => p.status === 'run').length;
console.log(
  `1000-instance matrix: expansion+validation ${expandMs.toFixed(1)} ms, plan (1000 keys) ${planMs.toFixed(1)} ms, total ${(expandMs + planMs).toFixed(1)} ms (goal < 1000 ms: ${expandMs + planMs < 1000 ? 'met' : 'MISSED'}); ${toRun} to run`,
);

// 3. CAS: one 256 MiB file, and a directory of 2000 × 4 KiB files.
const big = join(root, 'big.bin');
const chunk = Buffer.alloc(1 << 24, 7); // reused: fresh memory is slow to touch on this VM
for (let i = 0; i < 16; i++) writeFileSync(big, chunk, {flag: i === 0 ? 'w' : 'a'});
const t4 = performance.now();
await store.cas.putFile(big);
const fileMs = ms(t4);
const smallDir = join(root, 'small');
mkdirSync(smallDir);
const small = Buffer.alloc(4096, 1);
for (let i = 0; i < 2000; i++) {
  small.writeUInt32LE(i, 0);
  writeFileSync(join(smallDir, `f${i}.bin`), small);
}
const t5 = performance.now();
await store.cas.putDir(smallDir);
const dirMs = ms(t5);
console.log(`CAS: 256 MiB file hashed+published at ${(256 / (fileMs / 1000)).toFixed(0)} MiB/s (${fileMs.toFixed(0)} ms); 2000-file dir at ${(2000 / (dirMs / 1000)).toFixed(0)} files/s (${dirMs.toFixed(0)} ms)`);

store.close();
rmSync(root, {recursive: true, force: true});
