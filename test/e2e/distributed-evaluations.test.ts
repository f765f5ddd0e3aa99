// sensitivity and search through `axx run --redis`: each evaluation is a job on the task queue, spread
// over two `axx worker` processes, and the matrix and the search result are identical to a local run's;
// a worker killed with -9 mid-evaluation loses its job to the other worker and nothing changes.
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../../src/cli/main.js';
import {removeTree} from '../../src/engine/store/cas.js';
import {decodeModel} from '../../src/onnx/codec.js';
import {SHIPPED_VIT, shippedVitInput} from '../support/vit-fixture.js';
import {captureIo, exited} from './engine-helpers.js';
import {hasRedisServer, startRedis, startWorker, stopWorker, waitForOutput, type RedisServer, type WorkerProcess} from './distributed-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'axx-distributed-evaluations-'));
const project = join(dir, 'project');
const {mean, std} = shippedVitInput(decodeModel(readFileSync(SHIPPED_VIT)));
const evaluation = `
      model: \${{ steps.model.outputs.model }}
      calibration: \${{ steps.calibrate.outputs.calibration }}
      dataset: \${{ steps.mnist.outputs.dataset }}
      multipliers: [mul8s_1L2H, mul8s_1KR3]
      layers: [blocks.0.mlp.fc1, blocks.1.attn.qkv, blocks.2.mlp.fc2]
      limit: 150`;
const pipeline = `
steps:
  model: {uses: load/model, with: {path: ${JSON.stringify(SHIPPED_VIT)}}}
  mnist: {uses: load/dataset, with: {source: mnist, split: test, limit: 300, transform: {mean: ${mean}, std: ${std}}}}
  calibrate:
    uses: calibrate
    with: {model: '\${{ steps.model.outputs.model }}', dataset: '\${{ steps.mnist.outputs.dataset }}', batches: 1, batchSize: 100}
  sensitivity:
    uses: sensitivity
    with:${evaluation}
  search:
    uses: search
    with:${evaluation}
      sensitivity: \${{ steps.sensitivity.outputs.matrix }}
      method: mcts
      budget: 10
      threshold: 2
      seed: 3
      holdout: 100
      holdoutStages: 2
`;

const workers: WorkerProcess[] = [];
const servers: RedisServer[] = [];
let local: {matrix: string; result: string};
beforeAll(async () => {
  mkdirSync(project, {recursive: true});
  writeFileSync(join(project, 'package.json'), '{"name": "p", "private": true}\n');
  writeFileSync(join(project, 'p.yaml'), pipeline);
  const io = captureIo(project);
  expect(await runCli(['run', 'p.yaml', '--cache', join(dir, 'local')], io), io.stderrText()).toBe(0);
  local = await outputs(join(dir, 'local'));
}, 300_000);
afterEach(async () => {
  for (const worker of workers.splice(0)) await stopWorker(worker);
  for (const server of servers.splice(0)) await server.stop();
});
afterAll(() => removeTree(dir));

let counter = 0;
async function exported(cache: string, output: string): Promise<string> {
  const target = join(dir, `export-${counter++}.json`);
  const io = captureIo(project);
  expect(await runCli(['export', output, target, '--cache', cache], io), io.stderrText()).toBe(0);
  return readFileSync(target, 'utf8');
}

async function outputs(cache: string): Promise<{matrix: string; result: string}> {
  return {matrix: await exported(cache, 'sensitivity.matrix'), result: await exported(cache, 'search.result')};
}

/** A fresh Redis (finished jobs of another test would be attached to, not run) with two workers. */
async function twoWorkers(blobs: string): Promise<{url: string; pair: WorkerProcess[]}> {
  const server = await startRedis();
  servers.push(server);
  for (const name of ['w1', 'w2']) workers.push(await startWorker(server.url, blobs, join(dir, `${name}-${counter++}`), project));
  return {url: server.url, pair: [...workers]};
}

describe.skipIf(!hasRedisServer)('evaluations on workers', () => {
  it('spreads sensitivity cells and search configurations over two workers, with results identical to the local run', async () => {
    const blobs = join(dir, 'blobs-spread');
    const {url, pair} = await twoWorkers(blobs);
    const cache = join(dir, 'coordinator-spread');
    const io = captureIo(project);
    const code = await runCli(['run', 'p.yaml', '--cache', cache, '--redis', url, '--blobs', blobs, '--json'], io);
    expect(code, io.stdoutText() + io.stderrText()).toBe(0);
    for (const worker of pair) {
      expect(worker.output()).toMatch(/finished sensitivity\/evaluate task/);
      expect(worker.output()).toMatch(/finished search\/evaluate task/);
    }
    // The dashboard's counts: every task of each step ends done.
    const events = io.stdoutText().trim().split('\n').map((line) => JSON.parse(line) as {type: string; step?: {id: string}; queued?: number; running?: number; done?: number});
    for (const step of ['sensitivity', 'search']) {
      const last = events.filter((e) => e.type === 'step-tasks' && e.step?.id === step).at(-1);
      expect(last).toMatchObject({queued: 0, running: 0});
      expect(last!.done).toBeGreaterThan(0);
    }
    expect(await outputs(cache)).toEqual(local);
  }, 300_000);

  it('a worker killed with -9 mid-evaluation: the other worker takes the evaluation over and the results do not change', async () => {
    const blobs = join(dir, 'blobs-kill');
    const {url, pair} = await twoWorkers(blobs);
    const cache = join(dir, 'coordinator-kill');
    const io = captureIo(project);
    const run = runCli(['run', 'p.yaml', '--cache', cache, '--redis', url, '--blobs', blobs], io);
    const task = /running sensitivity\/evaluate task (\S+)/;
    const victim = await Promise.race(pair.map((w) => waitForOutput(w, task).then(() => w, () => new Promise<never>(() => undefined))));
    victim.kill('SIGKILL');
    await exited(victim);
    const job = task.exec(victim.output())![1]!;
    const survivor = pair.find((w) => w !== victim)!;
    expect(await run, io.stdoutText() + io.stderrText()).toBe(0);
    expect(victim.output()).not.toContain(`finished sensitivity/evaluate task ${job}`);
    expect(survivor.output()).toContain(`finished sensitivity/evaluate task ${job}`);
    expect(await outputs(cache)).toEqual(local);
  }, 300_000);
});
