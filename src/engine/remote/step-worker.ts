// The worker side of the queue executor: takes step jobs from Redis, checks that it may and can run
// them (its versions reproduce the key, the kind is registered, exec only with --allow-exec, the
// parameters fit the kind's schema), fetches inputs from the shared blob tier into its own store,
// runs the kind through a local executor and publishes the outputs to the tier before it reports
// their digests. Memo entries live in Redis and checkpoints in the tier, so a job another worker
// picks up after a crash resumes where the first left off. It also takes the tasks of steps that run
// on their coordinator (StepKind.tasks) from a second queue, under the same checks.
import {DelayedError, Worker, type IRedisClient, type Job} from 'bullmq';
import {resolve as resolvePath, sep} from 'node:path';
import {canonicalJson} from '../canonical-json.js';
import type {Executor} from '../executor.js';
import {checkResolvedParams} from '../spec/load-pipeline.js';
import {StepError, type HostEnvironment, type Json, type StepCheckpoint, type StepKind} from '../step-kind.js';
import {removeTree, type Cas} from '../store/cas.js';
import {decodeArtifactParams} from './artifact-params.js';
import {asConnection, connectRedis, redisClient} from './redis.js';
import {describeEnvironment, jobEnvironment, REDIS_KEYS, STEP_QUEUE, TASK_QUEUE, WORKER_HEARTBEAT_MS, type JobEnvironment, type JobFailure, type JobOutput, type JobUpdate, type StepJobData, type StepJobResult, type TaskJobData, type TaskJobResult, type WorkerAnnouncement} from './step-job.js';

/** A refused job goes back to the queue for this long, so a fitting worker can take it meanwhile. */
const REFUSAL_DELAY_MS = 1_000;
/** How long a job's lock lives without renewal: a worker killed with -9 loses its job this soon. */
const LOCK_MS = 10_000;

export interface StepWorkerOptions {
  redisUrl: string;
  /** e.g. "lab2:4711": in logs, the run log and `axx workers`. */
  id: string;
  host: string;
  kinds: readonly StepKind[];
  executorFor(kind: StepKind): Executor;
  local: Cas;
  shared: Cas;
  concurrency: number;
  resources: Record<string, number>;
  allowExec: boolean;
  /** What this worker's steps see of its environment: a job runs with the worker's variables, not the coordinator's. */
  hostEnvironment: HostEnvironment;
  /** One line per job event, for the worker's own output. */
  log(line: string): void;
}

export interface RunningWorker {
  /** Finishes the jobs in hand, then disconnects. */
  close(): Promise<void>;
}

export async function startStepWorker(options: StepWorkerOptions): Promise<RunningWorker> {
  const environment = jobEnvironment();
  const running = new Map<string, {kind: string; since: number}>();
  const startedAt = Date.now();
  const client = redisClient(options.redisUrl);
  client.on('error', () => undefined);
  try {
    await connectRedis(client, options.redisUrl);
  } catch (error) {
    client.disconnect();
    throw error;
  }
  const workerClients = [redisClient(options.redisUrl), redisClient(options.redisUrl)] as const;
  const workerOptions = (client: IRedisClient) => ({
    connection: asConnection(client),
    concurrency: options.concurrency,
    lockDuration: LOCK_MS,
    stalledInterval: LOCK_MS / 2,
    // A job whose worker died is retried by another worker; one that kills two workers fails.
    maxStalledCount: 1,
    name: options.id,
  });
  const workers = [
    new Worker(STEP_QUEUE, (job: Job, token?: string, signal?: AbortSignal) => processJob(job, token, signal), workerOptions(workerClients[0])),
    new Worker(TASK_QUEUE, (job: Job, token?: string, signal?: AbortSignal) => processTask(job, token, signal), workerOptions(workerClients[1])),
  ];
  for (const worker of workers) {
    worker.on('error', () => undefined);
    await worker.waitUntilReady();
  }

  const announce = async (): Promise<void> => {
    const announcement: WorkerAnnouncement = {
      id: options.id,
      host: options.host,
      pid: process.pid,
      concurrency: options.concurrency,
      resources: options.resources,
      allowExec: options.allowExec,
      environment,
      startedAt,
      seenAt: Date.now(),
      running: [...running].map(([jobId, r]) => ({jobId, ...r})),
    };
    await client.hset(REDIS_KEYS.workers, {[options.id]: JSON.stringify(announcement)});
  };
  await announce();
  const heartbeat = setInterval(() => void announce().catch(() => undefined), WORKER_HEARTBEAT_MS);

  /** Jobs this worker already said no to: it keeps saying no, but only once in the logs. */
  const refused = new Set<string>();
  async function refuse(job: Job, token: string | undefined, reason: string): Promise<never> {
    if (!refused.has(job.id!)) {
      refused.add(job.id!);
      options.log(`refused ${job.name} job ${job.id?.slice(0, 12)}: ${reason}`);
      await job.updateProgress({type: 'refused', worker: options.id, reason} satisfies JobUpdate);
    }
    await job.moveToDelayed(Date.now() + REFUSAL_DELAY_MS, token);
    throw new DelayedError();
  }

  /** The job's JSON with its artifacts fetched from the shared tier into this worker's store. */
  async function fetchInputs(encoded: Json): Promise<Json | MissingInput> {
    try {
      return await decodeArtifactParams(encoded, options.local, options.shared);
    } catch (error) {
      return new MissingInput({stepError: true, message: `an input is missing from the shared blob tier ${options.shared.root}: ${(error as Error).message}`, hint: 'coordinator and workers must mount the same --blobs directory'});
    }
  }

  /** The registered kind a job names, or why this worker will not run it. */
  function admit(data: {kind: string; kindVersion: number; environment: JobEnvironment}): StepKind | {refusal: string} {
    const kind = options.kinds.find((k) => k.name === data.kind);
    if (kind === undefined) return {refusal: `step kind "${data.kind}" is not registered here (${describeEnvironment(environment)})`};
    if (canonicalJson(data.environment as unknown as Json) !== canonicalJson(environment as unknown as Json) || kind.version !== data.kindVersion) {
      return {refusal: `it needs ${describeEnvironment(data.environment)} and ${kind.name} v${data.kindVersion}; this worker has ${describeEnvironment(environment)} and v${kind.version}, so it would not reproduce the cache key`};
    }
    return kind;
  }

  async function processTask(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<TaskJobResult> {
    const data = job.data as TaskJobData;
    const shape = envelopeProblem(data) ?? (typeof data.task !== 'string' ? '"task" is not a string' : !('payload' in data) ? '"payload" is missing' : undefined);
    if (shape !== undefined) return failed({stepError: true, message: `the task payload is malformed: ${shape}`, hint: 'only `axx run --redis` should add jobs to this queue'});
    const kind = admit(data);
    if ('refusal' in kind) return refuse(job, token, kind.refusal);
    const task = kind.tasks?.[data.task];
    if (task === undefined) return refuse(job, token, `step kind ${kind.name} has no task "${data.task}" here`);
    const jobId = job.id!;
    const what = `${kind.name}/${data.task}`;
    running.set(jobId, {kind: what, since: Date.now()});
    options.log(`running ${what} task ${jobId}`);
    void job.updateProgress({type: 'started', worker: options.id} satisfies JobUpdate).catch(() => undefined);
    const scratchDir = await options.local.tempDir(what);
    try {
      const payload = await fetchInputs(data.payload);
      if (payload instanceof MissingInput) return failed(payload.failure);
      const value = await task(payload, signal ?? new AbortController().signal, scratchDir);
      options.log(`finished ${what} task ${jobId}`);
      return {ok: true, worker: options.id, value};
    } catch (error) {
      options.log(`${what} task ${jobId} failed: ${error instanceof Error ? error.message : String(error)}`);
      return failed(failureOf(error));
    } finally {
      running.delete(jobId);
      await removeTree(scratchDir);
    }
  }

  async function processJob(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<StepJobResult> {
    const data = job.data as StepJobData;
    const shape = payloadProblem(data);
    if (shape !== undefined) return failed({stepError: true, message: `the job payload is malformed: ${shape}`, hint: 'only `axx run --redis` should add jobs to this queue'});
    const kind = admit(data);
    if ('refusal' in kind) return refuse(job, token, kind.refusal);
    if (kind.name === 'exec' && !options.allowExec) return refuse(job, token, 'exec steps run shell commands; this worker was started without --allow-exec');
    const jobId = job.id!;
    const update = (u: JobUpdate): void => void job.updateProgress(u).catch(() => undefined);
    running.set(jobId, {kind: kind.name, since: Date.now()});
    options.log(`running ${kind.name} job ${jobId.slice(0, 12)}`);
    update({type: 'started', worker: options.id});
    const scratchDir = await options.local.tempDir(kind.name);
    try {
      const params = await fetchInputs(data.params);
      if (params instanceof MissingInput) return failed(params.failure);
      const misfit = checkResolvedParams(kind, params);
      if (misfit !== undefined) return failed({stepError: true, message: `the job's parameters do not fit ${kind.name}: ${misfit.message}`, param: misfit.param});
      const returned = await options.executorFor(kind).execute({
        key: jobId,
        kind,
        params,
        scratchDir,
        resources: data.resources,
        signal: signal ?? new AbortController().signal,
        hostEnvironment: options.hostEnvironment,
        checkpoint: checkpointIn(client, options.shared, jobId),
        memo: {
          get: async (key) => {
            const text = await client.hget(REDIS_KEYS.memo, key);
            return text === null ? undefined : (JSON.parse(text) as Json);
          },
          set: async (key, value) => void (await client.hset(REDIS_KEYS.memo, {[key]: JSON.stringify(value)})),
        },
        progress: (done, total, unit) => update({type: 'progress', done, ...(total !== undefined ? {total} : {}), ...(unit !== undefined ? {unit} : {})}),
        log: (text, stream) => update({type: 'log', text, stream}),
        metric: (name, value, step) => update({type: 'metric', name, value, ...(step !== undefined ? {step} : {})}),
        // This worker is where the step runs; a kind with tasks runs them here, in process.
        placed: () => undefined,
        taskCounts: () => undefined,
      });
      const outputs: Record<string, JobOutput> = {};
      for (const [name, value] of Object.entries(returned)) {
        if ('value' in value) {
          outputs[name] = {type: 'value', value: value.value};
          continue;
        }
        const artifact = 'file' in value ? await options.local.putFile(inside(scratchDir, value.file)) : await options.local.putDir(inside(scratchDir, value.dir));
        await options.shared.copyFrom(options.local, artifact);
        outputs[name] = artifact;
      }
      await client.del(REDIS_KEYS.checkpoint(jobId));
      options.log(`finished ${kind.name} job ${jobId.slice(0, 12)}`);
      return {ok: true, worker: options.id, outputs};
    } catch (error) {
      options.log(`${kind.name} job ${jobId.slice(0, 12)} failed: ${error instanceof Error ? error.message : String(error)}`);
      return failed(failureOf(error));
    } finally {
      running.delete(jobId);
      await removeTree(scratchDir);
    }
  }

  function failed(error: JobFailure): {ok: false; worker: string; error: JobFailure} {
    return {ok: false, worker: options.id, error};
  }

  return {
    async close() {
      clearInterval(heartbeat);
      for (const worker of workers) await worker.close();
      await client.hdel(REDIS_KEYS.workers, options.id).catch(() => undefined);
      for (const c of [client, ...workerClients]) await c.quit();
    },
  };
}

function inside(scratchDir: string, path: string): string {
  const full = resolvePath(scratchDir, path);
  if (!full.startsWith(scratchDir + sep)) throw new Error(`the step returned output path ${path} outside its scratch directory`);
  return full;
}

/** An artifact the job names is not in the shared tier (a value, so it is told apart from the decoded JSON). */
class MissingInput {
  constructor(readonly failure: JobFailure) {}
}

function failureOf(error: unknown): JobFailure {
  if (error instanceof StepError) return {stepError: true, message: error.message, ...(error.hint !== undefined ? {hint: error.hint} : {}), ...(error.param !== undefined ? {param: error.param} : {})};
  return {stepError: false, message: error instanceof Error ? error.message : String(error), ...(error instanceof Error && error.stack !== undefined ? {stack: error.stack} : {})};
}

/** What is wrong with what every job names (kind, versions), if anything (anyone who can write to Redis can add a job). */
function envelopeProblem(data: unknown): string | undefined {
  if (data === null || typeof data !== 'object') return 'it is not an object';
  const d = data as Partial<StepJobData>;
  if (typeof d.kind !== 'string') return '"kind" is not a string';
  if (typeof d.kindVersion !== 'number') return '"kindVersion" is not a number';
  if (d.environment === null || typeof d.environment !== 'object' || typeof d.environment.axx !== 'string' || typeof d.environment.onnxruntime !== 'string') return '"environment" lacks its axx and onnxruntime versions';
  return undefined;
}

/** What is wrong with a step job's data, if anything. */
function payloadProblem(data: unknown): string | undefined {
  const envelope = envelopeProblem(data);
  if (envelope !== undefined) return envelope;
  const d = data as Partial<StepJobData>;
  if (d.resources === null || typeof d.resources !== 'object' || !Object.values(d.resources).every((v) => typeof v === 'number')) return '"resources" is not a map of numbers';
  if (!('params' in d)) return '"params" is missing';
  return undefined;
}

/** A step's checkpoint as JSON in Redis with its files as blobs in the shared tier. */
function checkpointIn(client: IRedisClient, shared: Cas, jobId: string): StepCheckpoint {
  return {
    async save(state, files = {}) {
      const digests: Record<string, string> = {};
      for (const [name, bytes] of Object.entries(files)) digests[name] = (await shared.putBytes(bytes)).digest;
      await client.set(REDIS_KEYS.checkpoint(jobId), JSON.stringify({state, files: digests}));
    },
    async load() {
      const text = await client.get(REDIS_KEYS.checkpoint(jobId));
      if (text === null) return undefined;
      const saved = JSON.parse(text) as {state: Json; files: Record<string, string>};
      const files: Record<string, Uint8Array> = {};
      for (const [name, digest] of Object.entries(saved.files)) files[name] = await shared.readBytes(digest);
      return {state: saved.state, files};
    },
    discard: async () => void (await client.del(REDIS_KEYS.checkpoint(jobId))),
  };
}
