// Queue overheads of `axx run --redis`, measured against a private redis-server on a free loopback port,
// with the real QueueExecutor (coordinator side) and startStepWorker (worker side) in this process:
//  1. 1000 no-op step jobs through the queue, 16 in flight, one worker of concurrency 16 (goal < 10 s);
//  2. per-job overhead: one step that reads an already-cached 6 MB model, run sequentially through the
//     queue vs in process, interleaved ABAB (goal < 20 ms per job for the queue round trip + blob fetch).
// Run: npx tsx bench/distributed.bench.ts
import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {cpus, loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import {inProcessExecutor, type StepExecution} from '../src/engine/executor.js';
import {QueueExecutor} from '../src/engine/remote/queue-executor.js';
import {startStepWorker} from '../src/engine/remote/step-worker.js';
import type {StepKind} from '../src/engine/step-kind.js';
import {Cas} from '../src/engine/store/cas.js';

const root = mkdtempSync(join(tmpdir(), 'axx-bench-distributed-'));
const port = await new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const address = server.address();
    server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
  });
});
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {stdio: ['ignore', 'pipe', 'inherit']});
await new Promise<void>((resolve) => redis.stdout!.on('data', (d: Buffer) => d.toString().includes('Ready to accept') && resolve()));
const url = `redis://127.0.0.1:${port}`;

const noop: StepKind = {name: 'bench/noop', version: 1, description: 'returns its input', schema: {type: 'object'}, outputs: {n: {type: 'value'}}, run: async (ctx) => ({n: {value: (ctx.params as {n: number}).n}})};
const readModel: StepKind = {
  name: 'bench/read-model',
  version: 1,
  description: 'reads a model file',
  schema: {type: 'object'},
  outputs: {size: {type: 'value'}},
  run: async (ctx) => ({size: {value: readFileSync((ctx.params as {model: string}).model).byteLength}}),
};

const coordinatorCas = new Cas(join(root, 'coordinator'));
const shared = new Cas(join(root, 'shared'));
const executor = new QueueExecutor({redisUrl: url, local: coordinatorCas, shared});
const worker = await startStepWorker({
  redisUrl: url,
  id: 'bench:1',
  host: 'bench',
  kinds: [noop, readModel],
  executorFor: () => inProcessExecutor,
  local: new Cas(join(root, 'worker')),
  shared,
  concurrency: 16,
  resources: {},
  allowExec: false,
  hostEnvironment: {},
  log: () => undefined,
});

async function execution(kind: StepKind, key: string, params: StepExecution['params']): Promise<StepExecution> {
  return {
    key,
    kind,
    params,
    scratchDir: await coordinatorCas.tempDir('bench'),
    resources: {},
    signal: new AbortController().signal,
    hostEnvironment: {},
    checkpoint: {save: async () => undefined, load: async () => undefined, discard: async () => undefined},
    memo: {get: async () => undefined, set: async () => undefined},
    progress: () => undefined,
    log: () => undefined,
    metric: () => undefined,
    placed: () => undefined,
    taskCounts: () => undefined,
  };
}

const run = `${Date.now()}`;
// 1. Throughput.
let t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({length: 16}, async () => {
    for (let i = next++; i < 1000; i = next++) await executor.execute(await execution(noop, `noop-${run}-${i}`, {n: i}));
  }),
);
const thousandMs = performance.now() - t0;

// 2. Per-job overhead with an already-cached model (it is in the worker's store after the first job).
writeFileSync(join(root, 'model.onnx'), Buffer.alloc(6 << 20, 7));
const model = await coordinatorCas.putFile(join(root, 'model.onnx'));
const params = {model: coordinatorCas.pathOf(model)};
await executor.execute(await execution(readModel, `warm-${run}`, params));
const remote: number[] = [];
const local: number[] = [];
for (let round = 0; round < 40; round++) {
  t0 = performance.now();
  await executor.execute(await execution(readModel, `model-${run}-${round}`, params));
  remote.push(performance.now() - t0);
  t0 = performance.now();
  await inProcessExecutor.execute(await execution(readModel, `local-${round}`, params));
  local.push(performance.now() - t0);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const overhead = median(remote) - median(local);

await worker.close();
await executor.close();
redis.kill('SIGTERM');
rmSync(root, {recursive: true, force: true});

console.log(`machine: ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}`);
console.log(`1000 no-op jobs through the queue: ${(thousandMs / 1000).toFixed(2)} s (${(1000 / (thousandMs / 1000)).toFixed(0)} jobs/s; goal < 10 s)`);
console.log(`per job, cached 6 MB model: queue ${median(remote).toFixed(1)} ms vs in process ${median(local).toFixed(1)} ms (median of 40, ABAB): overhead ${overhead.toFixed(1)} ms (goal < 20 ms)`);
