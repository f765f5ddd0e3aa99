// Faults of a distributed run, with the real CLI: a worker killed with -9 mid-job, Redis restarted
// mid-run, the coordinator killed and rerun; and what a worker refuses: jobs from another axx or
// onnxruntime version, exec without --allow-exec, payloads that do not fit the kind; a Redis password
// never printed or stored.
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Queue, QueueEvents} from 'bullmq';
import {afterAll, afterEach, describe, expect, it} from 'vitest';
import {runCli} from '../../src/cli/main.js';
import {asConnection, redisClient} from '../../src/engine/remote/redis.js';
import {jobEnvironment, STEP_QUEUE, type JobUpdate, type StepJobData, type StepJobResult} from '../../src/engine/remote/step-job.js';
import {removeTree} from '../../src/engine/store/cas.js';
import {Store} from '../../src/engine/store/store.js';
import {stepKinds} from '../../src/steps/index.js';
import {captureIo, exited, spawnAxx} from './engine-helpers.js';
import {hasRedisServer, startRedis, startWorker, stopWorker, waitForOutput, type RedisServer, type WorkerProcess} from './distributed-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'axx-distributed-faults-'));
const running: {workers: WorkerProcess[]; redis: RedisServer[]} = {workers: [], redis: []};
afterEach(async () => {
  for (const worker of running.workers.splice(0)) await stopWorker(worker);
  for (const redis of running.redis.splice(0)) await redis.stop();
});
afterAll(() => removeTree(dir));

let counter = 0;
function scratch(name: string): string {
  return join(dir, `${name}-${counter++}`);
}

async function redis(extraArgs: string[] = [], port?: number): Promise<RedisServer> {
  const server = await startRedis(port, extraArgs);
  running.redis.push(server);
  return server;
}

async function worker(url: string, blobs: string, extraArgs: string[] = ['--allow-exec']): Promise<WorkerProcess> {
  const child = await startWorker(url, blobs, scratch('worker-cache'), dir, extraArgs);
  running.workers.push(child);
  return child;
}

/** a (slow, counts its runs in `runs`) → b (reads a's output): a pipeline in its own project dir. */
function slowPipeline(runs: string, seconds: number): string {
  const project = scratch('project');
  const file = join(project, 'p.yaml');
  mkdirSync(project, {recursive: true});
  writeFileSync(join(project, 'package.json'), '{"name": "p", "private": true}\n');
  writeFileSync(
    file,
    `steps:
  a:
    uses: exec
    with:
      run: 'echo run >> "$RUNS"; echo started; sleep ${seconds}; echo $((6 * 7)) > o'
      vars: {RUNS: '${runs}'}
      outputs: {o: {path: o}}
  b:
    uses: exec
    with:
      inputs: ['\${{ steps.a.outputs.o }}']
      run: 'cat "$AXX_IN_0" "$AXX_IN_0" > o2'
      outputs: {o2: {path: o2}}
`,
  );
  return file;
}

async function exported(cache: string, artifact: string): Promise<string> {
  const target = scratch('export');
  const io = captureIo(dir);
  expect(await runCli(['export', artifact, target, '--cache', cache], io), io.stderrText()).toBe(0);
  return readFileSync(target, 'utf8');
}

function versionOf(kind: string): number {
  return stepKinds.find((k) => k.name === kind)!.version;
}

function runsOf(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').length : 0;
}

describe.skipIf(!hasRedisServer)('distributed faults', () => {
  it('a worker killed with -9 mid-job: another worker takes the job over and the run ends as an undisturbed one', async () => {
    const server = await redis();
    const blobs = scratch('blobs');
    const runs = scratch('runs');
    const pipeline = slowPipeline(runs, 6);
    const pair = [await worker(server.url, blobs), await worker(server.url, blobs)];
    const cache = scratch('coordinator');
    const io = captureIo(dir);
    const run = runCli(['run', pipeline, '--cache', cache, '--redis', server.url, '--blobs', blobs, '--json'], io);
    const victim = await Promise.race(pair.map((w) => waitForOutput(w, /running exec job/).then(() => w, () => new Promise<never>(() => undefined))));
    const survivor = pair.find((w) => w !== victim)!;
    victim.kill('SIGKILL');
    await exited(victim);
    const job = /running exec job (\w+)/.exec(victim.output())![1]!;
    const code = await run;
    expect(code, io.stdoutText() + io.stderrText()).toBe(0);
    expect(victim.output()).not.toContain(`finished exec job ${job}`);
    expect(survivor.output()).toContain(`finished exec job ${job}`);
    expect(runsOf(runs)).toBeGreaterThanOrEqual(1);
    expect(await exported(cache, 'b.o2')).toBe('42\n42\n');
  }, 120_000);

  it('Redis restarted mid-run: the coordinator and the worker reconnect and the run finishes', async () => {
    const server = await redis();
    const blobs = scratch('blobs');
    const pipeline = slowPipeline(scratch('runs'), 2);
    const w = await worker(server.url, blobs);
    const io = captureIo(dir);
    const cache = scratch('coordinator');
    const run = runCli(['run', pipeline, '--cache', cache, '--redis', server.url, '--blobs', blobs], io);
    await waitForOutput(w, /running exec job/);
    await server.stop();
    running.redis.splice(running.redis.indexOf(server), 1);
    await redis([], server.port);
    const code = await run;
    expect(code, io.stdoutText() + io.stderrText()).toBe(0);
    expect(await exported(cache, 'b.o2')).toBe('42\n42\n');
  }, 120_000);

  it('a coordinator killed mid-run and run again attaches to the job in flight instead of adding a second', async () => {
    const server = await redis();
    const blobs = scratch('blobs');
    const runs = scratch('runs');
    const pipeline = slowPipeline(runs, 3);
    const w = await worker(server.url, blobs);
    const cache = scratch('coordinator');
    const coordinator = spawnAxx(['run', pipeline, '--cache', cache, '--redis', server.url, '--blobs', blobs], dir);
    await waitForOutput(w, /running exec job/);
    coordinator.kill('SIGKILL');
    await exited(coordinator);
    const io = captureIo(dir);
    const code = await runCli(['run', pipeline, '--cache', cache, '--redis', server.url, '--blobs', blobs], io);
    const out = io.stdoutText() + io.stderrText();
    expect(code, out).toBe(0);
    expect(out).toMatch(/attached to job \w+ already (active|completed)/);
    expect(runsOf(runs)).toBe(1);
  }, 120_000);

  it('with no worker connected the run says so within seconds, waits, and finishes once one connects', async () => {
    const server = await redis();
    const blobs = scratch('blobs');
    const io = captureIo(dir);
    const run = runCli(['run', slowPipeline(scratch('runs'), 0), '--cache', scratch('coordinator'), '--redis', server.url, '--blobs', blobs], io);
    const started = Date.now();
    const output = (): string => io.stdoutText() + io.stderrText();
    while (!output().includes('no worker reachable')) {
      expect(Date.now() - started, output()).toBeLessThan(30_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(output()).toContain(`no worker reachable on ${server.url}: waiting (start one with: axx worker --redis ${server.url} --blobs ${blobs})`);
    await worker(server.url, blobs);
    expect(await run, output()).toBe(0);
  }, 120_000);

  it('refuses jobs of another version and exec without --allow-exec, and rejects payloads that do not fit the kind', async () => {
    const server = await redis();
    const blobs = scratch('blobs');
    const w = await worker(server.url, blobs, []);
    const listing = captureIo(dir);
    expect(await runCli(['workers', '--redis', server.url], listing), listing.stderrText()).toBe(0);
    expect(listing.stdoutText()).toMatch(new RegExp(`^1 worker on redis://127.0.0.1:${server.port}; jobs waiting 0`));
    expect(listing.stdoutText()).toMatch(/:\d+ {2}axx [\d.]+, onnxruntime [\d.]+ {2}concurrency 1, no resources declared\n/);
    const clients = [redisClient(server.url), redisClient(server.url)];
    const queue = new Queue(STEP_QUEUE, {connection: asConnection(clients[0]!)});
    const events = new QueueEvents(STEP_QUEUE, {connection: asConnection(clients[1]!)});
    await events.waitUntilReady();
    const refusals = new Map<string, string>();
    events.on('progress', ({jobId, data}) => {
      const update = data as JobUpdate;
      if (update.type === 'refused') refusals.set(jobId, update.reason);
    });
    const until = async (test: () => boolean): Promise<void> => {
      // Generous: the refused job of another version keeps cycling through the one worker meanwhile, and a loaded
      // CI machine slows each cycle; this waits for the worker to get to the next job, it times nothing.
      for (const deadline = Date.now() + 45_000; !test(); ) {
        if (Date.now() > deadline) throw new Error(`no refusal seen; worker output:\n${w.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const marker = scratch('marker');
    const exec = (environment: StepJobData['environment']): StepJobData => ({kind: 'exec', kindVersion: versionOf('exec'), environment, params: {run: `touch ${marker}`, inputs: [], outputs: {}, env: [], vars: {}}, resources: {}});
    try {
      await queue.add('exec', exec({axx: '0.0.0-other', onnxruntime: jobEnvironment().onnxruntime}), {jobId: 'other-version'});
      await until(() => refusals.has('other-version'));
      expect(refusals.get('other-version')).toMatch(/needs axx 0\.0\.0-other.*would not reproduce the cache key/);

      await queue.add('exec', exec(jobEnvironment()), {jobId: 'no-allow-exec'});
      await until(() => refusals.has('no-allow-exec'));
      expect(refusals.get('no-allow-exec')).toMatch(/without --allow-exec/);
      expect(existsSync(marker)).toBe(false);

      const misfit = await queue.add('report', {kind: 'report', kindVersion: versionOf('report'), environment: jobEnvironment(), params: {title: 42}, resources: {}} satisfies StepJobData, {jobId: 'misfit'});
      const misfitResult = (await misfit.waitUntilFinished(events)) as StepJobResult;
      expect(misfitResult).toMatchObject({ok: false, error: {stepError: true}});
      expect(!misfitResult.ok && misfitResult.error.message).toMatch(/do not fit report/);

      const malformed = await queue.add('report', {kind: 'report'}, {jobId: 'malformed'});
      const malformedResult = (await malformed.waitUntilFinished(events)) as StepJobResult;
      expect(!malformedResult.ok && malformedResult.error.message).toMatch(/payload is malformed: "kindVersion"/);
    } finally {
      await queue.obliterate({force: true});
      await events.close();
      await queue.close();
      for (const client of clients) await client.quit();
    }
  }, 150_000);

  it('takes a password in the Redis URL and never prints or stores it; a wrong one is a clear error', async () => {
    const password = 'pw-9f3c1e-secret';
    const server = await redis(['--requirepass', password]);
    const url = `redis://:${password}@127.0.0.1:${server.port}`;
    const blobs = scratch('blobs');
    const w = await worker(url, blobs);
    const cache = scratch('coordinator');
    const io = captureIo(dir);
    const code = await runCli(['run', slowPipeline(scratch('runs'), 0), '--cache', cache, '--redis', url, '--blobs', blobs, '--json'], io);
    const out = io.stdoutText() + io.stderrText();
    expect(code, out).toBe(0);
    expect(out + w.output()).not.toContain(password);
    {
      using store = Store.open(cache);
      expect(store.runs.list(1)[0]?.command).toContain('redis://:***@');
    }
    for (const file of readdirSync(cache)) if (file.startsWith('index.sqlite')) expect(readFileSync(join(cache, file)).includes(password)).toBe(false);

    const wrong = spawnAxx(['worker', '--redis', `redis://:not-${password}@127.0.0.1:${server.port}`, '--blobs', blobs, '--cache', scratch('c')], dir);
    expect(await exited(wrong)).toBe(2);
    expect(wrong.output()).toMatch(/refused the login: WRONGPASS/);
    expect(wrong.output()).not.toContain(password);
  }, 60_000);
});
