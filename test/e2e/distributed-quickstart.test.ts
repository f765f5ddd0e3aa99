// The quickstart (shrunk with -p) through `axx run --redis` and two `axx worker` processes gives a
// report byte-identical to the local run's, with both workers taking jobs.
import {mkdtempSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../../src/cli/main.js';
import {removeTree} from '../../src/engine/store/cas.js';
import {captureIo} from './engine-helpers.js';
import {hasRedisServer, startRedis, startWorker, stopWorker, type RedisServer, type WorkerProcess} from './distributed-helpers.js';

const root = join(import.meta.dirname, '..', '..');
const PIPELINE = join('pipelines', 'quickstart.yaml');
const SMALL = Object.entries({
  calibrationSamples: '64',
  finetuneSamples: '512',
  finetuneEpochs: '1',
  evalSamples: '400',
  searchSamples: '200',
  holdoutSamples: '200',
  budget: '8',
  layers: '[blocks.0.mlp.fc1, blocks.1.attn.qkv, blocks.2.mlp.fc2]',
  multipliers: '[mul8s_1L2H, mul8s_1KR3]',
}).flatMap(([name, value]) => ['-p', `${name}=${value}`]);

const dir = mkdtempSync(join(tmpdir(), 'axx-distributed-'));
let redis: RedisServer;
const workers: WorkerProcess[] = [];
beforeAll(async () => {
  if (hasRedisServer) redis = await startRedis();
});
afterAll(async () => {
  for (const worker of workers) await stopWorker(worker);
  await redis?.stop();
  await removeTree(dir);
});

async function exportReport(cache: string): Promise<Buffer> {
  const target = join(dir, `report-${Math.random().toString(36).slice(2)}.html`);
  const io = captureIo(root);
  expect(await runCli(['export', 'report.html', target, '--cache', cache], io), io.stderrText()).toBe(0);
  return readFileSync(target);
}

describe.skipIf(!hasRedisServer)('quickstart through workers', () => {
  it('gives a byte-identical report to the local run, with jobs on both workers', async () => {
    const blobs = join(dir, 'blobs');
    for (const name of ['w1', 'w2']) workers.push(await startWorker(redis.url, blobs, join(dir, name), root));

    const local = captureIo(root);
    expect(await runCli(['run', PIPELINE, '--cache', join(dir, 'local'), ...SMALL], local), local.stderrText()).toBe(0);

    const remote = captureIo(root);
    const code = await runCli(['run', PIPELINE, '--cache', join(dir, 'coordinator'), '--redis', redis.url, '--blobs', blobs, ...SMALL], remote);
    const out = remote.stdoutText() + remote.stderrText();
    expect(code, out).toBe(0);
    expect(out).toMatch(/passed in [^:]+: 16 ran, 0 cached/);
    for (const worker of workers) expect(worker.output()).toMatch(/finished \S+ job/);

    const [localHtml, remoteHtml] = await Promise.all([exportReport(join(dir, 'local')), exportReport(join(dir, 'coordinator'))]);
    expect(remoteHtml.equals(localHtml)).toBe(true);

    // The same run again is all cached on the coordinator: no job goes to the queue.
    const again = captureIo(root);
    expect(await runCli(['run', PIPELINE, '--cache', join(dir, 'coordinator'), '--redis', redis.url, '--blobs', blobs, ...SMALL], again), again.stderrText()).toBe(0);
    expect(again.stdoutText()).toMatch(/0 ran, 16 cached/);
  }, 300_000);
});
