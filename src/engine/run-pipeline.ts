// Runs a pipeline: schedules instances as their upstream finishes (p-queue, -j, resource tokens),
// reuses cached results, shares in-flight work with other runs through leases, retries with
// backoff, publishes outputs crash-safely and reports everything as AxxEvents.
import {randomBytes} from 'node:crypto';
import {realpath} from 'node:fs/promises';
import {resolve as resolvePath, sep} from 'node:path';
import PQueue from 'p-queue';
import {canonicalJson, sha256Hex} from './canonical-json.js';
import type {AxxEvent, EventSink, Failure, StepRef} from './events.js';
import type {Executor} from './executor.js';
import {locateStep, type ExecutorName, type Pipeline, type StepInstance} from './pipeline.js';
import {ResourcePool} from './resource-pool.js';
import {bindInstance, keyContext, type BoundInstance} from './resolve.js';
import {checkResolvedParams} from './spec/load-pipeline.js';
import {StepError, type HostEnvironment, type OutputValue} from './step-kind.js';
import {removeTree} from './store/cas.js';
import {plainAxx, type HintCommand} from './hint-command.js';
import {diskFullError, isDiskFull} from './store/errors.js';
import {HEARTBEAT_MS} from './store/liveness.js';
import type {OutputRecord, ResultRecord} from './store/results.js';
import type {Store} from './store/store.js';

export interface RunOptions {
  store: Store;
  /** Writes the axx commands of hints (see HintCommand); default plain `axx`. */
  hintCommand?: HintCommand;
  executors: Record<ExecutorName, Executor>;
  /** For steps whose YAML, run flag and kind name no executor. */
  defaultExecutor: ExecutorName;
  /** `axx run --executor`: beats the kind's preference, not a step's own `executor:`. */
  executorOverride?: ExecutorName;
  emit: EventSink;
  /** What steps see of the environment axx runs in (the CLI reads it). */
  hostEnvironment: HostEnvironment;
  /** Aborted on SIGINT/SIGTERM: running steps get it, the run ends interrupted. */
  signal: AbortSignal;
  concurrency: number;
  budget: Record<string, number>;
  failFast?: boolean;
  /** Instances to recompute even if cached. */
  force?: ReadonlySet<string>;
  /** Instances to run (upstream already included); all when absent. */
  select?: ReadonlySet<string>;
  /** The command line that repeats this run (printed to resume). */
  command: string;
  clock?: () => number;
  retryBaseMs?: number;
  leasePollMs?: number;
}

export interface RunSummary {
  runId: string;
  reason: 'passed' | 'failed' | 'interrupted';
  results: Map<string, ResultRecord>;
  counts: {ran: number; cached: number; failed: number; skipped: number; interrupted: number};
}

type Outcome = 'ran' | 'cached' | 'failed' | 'skipped' | 'interrupted';

class Interrupted extends Error {}

function newRunId(now: number): string {
  return `${new Date(now).toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(2).toString('hex')}`;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Interrupted());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Interrupted());
    };
    signal.addEventListener('abort', onAbort, {once: true});
  });
}

/** After a timeout, how long a step has to stop before the engine gives up waiting for it. */
const TIMEOUT_GRACE_MS = 10_000;

/**
 * A step attempt's `timeout:`: aborts the step's signal when it passes (exec then stops its process
 * group with SIGTERM and SIGKILL; the child-process executor kills its child), and stops waiting for a
 * step that ignores the signal after a grace period.
 */
class StepDeadline {
  readonly #controller = new AbortController();
  readonly #timers: NodeJS.Timeout[] = [];
  #giveUp: (() => void) | undefined;

  constructor(readonly seconds: number | undefined) {
    if (seconds === undefined) return;
    this.#timers.push(setTimeout(() => this.#controller.abort(), seconds * 1000));
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get expired(): boolean {
    return this.#controller.signal.aborted;
  }

  error(): StepError {
    return new StepError(`timed out after ${this.seconds} s`, 'the step was stopped; if it needs longer, raise timeout: (seconds) on the step', 'timeout');
  }

  /** Throws the timeout error if it passed while the step was finishing. */
  check(): void {
    if (this.expired) throw this.error();
  }

  race<T>(execution: Promise<T>): Promise<T> {
    if (this.seconds === undefined) return execution;
    const abandoned = new Promise<never>((_, reject) => {
      this.#giveUp = () => reject(this.error());
      this.#controller.signal.addEventListener('abort', () => this.#timers.push(setTimeout(() => this.#giveUp?.(), TIMEOUT_GRACE_MS)), {once: true});
    });
    return Promise.race([execution, abandoned]);
  }

  clear(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#giveUp = undefined;
  }
}

export function runPipeline(pipeline: Pipeline, options: RunOptions): Promise<RunSummary> {
  return new PipelineRun(pipeline, options).run();
}

class PipelineRun {
  readonly #clock: () => number;
  readonly #runId: string;
  readonly #selected: StepInstance[];
  readonly #results = new Map<string, ResultRecord>();
  readonly #outcomes = new Map<string, Outcome>();
  readonly #remainingUpstream = new Map<string, number>();
  readonly #dependents = new Map<string, string[]>();
  readonly #queue: PQueue;
  readonly #pool: ResourcePool;
  /** Aborted by the user's signal or by --fail-fast. */
  readonly #stop = new AbortController();
  #failed = false;
  readonly #startedAt: number;

  constructor(
    readonly pipeline: Pipeline,
    readonly options: RunOptions,
  ) {
    this.#clock = options.clock ?? Date.now;
    this.#startedAt = this.#clock();
    this.#runId = newRunId(this.#startedAt);
    this.#selected = [...pipeline.instances.values()].filter((i) => options.select === undefined || options.select.has(i.ref.instance));
    const selectedNames = new Set(this.#selected.map((i) => i.ref.instance));
    for (const instance of this.#selected) {
      const upstream = instance.upstream.filter((u) => selectedNames.has(u));
      this.#remainingUpstream.set(instance.ref.instance, upstream.length);
      for (const u of upstream) this.#dependents.set(u, [...(this.#dependents.get(u) ?? []), instance.ref.instance]);
    }
    this.#queue = new PQueue({concurrency: Math.max(1, options.concurrency)});
    this.#pool = new ResourcePool(options.budget);
  }

  async run(): Promise<RunSummary> {
    const {store} = this.options;
    const onAbort = (): void => this.#stop.abort(this.options.signal.reason);
    this.options.signal.addEventListener('abort', onAbort, {once: true});
    store.runs.recoverStale(this.#startedAt);
    // Scratch dirs of killed runs would otherwise wait for `axx gc`.
    await store.cas.clearDeadTemp({dryRun: false, now: this.#startedAt});
    store.runs.start({id: this.#runId, pipeline: this.pipeline.file, name: this.pipeline.name, command: this.options.command, params: this.pipeline.params, at: this.#startedAt});
    for (const instance of this.#selected) store.runs.setStep(this.#runId, this.#row(instance), {state: 'waiting'});
    this.#emit({type: 'run-start', runId: this.#runId, pipeline: this.pipeline.name, steps: this.#selected.map((i) => i.ref), at: this.#clock()});
    const heartbeat = setInterval(() => {
      this.#record(() => {
        store.leases.heartbeat(this.#runId);
        store.runs.heartbeat(this.#runId, this.#clock());
      });
    }, HEARTBEAT_MS);
    heartbeat.unref();
    try {
      for (const instance of this.#selected) if (this.#remainingUpstream.get(instance.ref.instance) === 0) this.#enqueue(instance);
      await this.#queue.onIdle();
    } finally {
      clearInterval(heartbeat);
      this.options.signal.removeEventListener('abort', onAbort);
      this.#record(() => store.leases.releaseAll(this.#runId));
    }
    const interrupted = this.options.signal.aborted;
    for (const instance of this.#selected) {
      if (!this.#outcomes.has(instance.ref.instance)) this.#finish(instance.ref, interrupted || this.#failed ? 'interrupted' : 'skipped');
    }
    const reason = interrupted ? 'interrupted' : this.#failed ? 'failed' : 'passed';
    if (interrupted) this.#failure({reason: 'interrupted', resumeCommand: this.options.command});
    this.#record(() => store.runs.end(this.#runId, reason, this.#clock()));
    this.#emit({type: 'run-end', runId: this.#runId, reason, at: this.#clock()});
    const counts = {ran: 0, cached: 0, failed: 0, skipped: 0, interrupted: 0};
    for (const outcome of this.#outcomes.values()) counts[outcome]++;
    return {runId: this.#runId, reason, results: this.#results, counts};
  }

  #row(instance: StepInstance): {instance: string; stepId: string; kind: string} {
    return {instance: instance.ref.instance, stepId: instance.ref.id, kind: instance.ref.kind};
  }

  #emit(event: AxxEvent): void {
    this.#record(() => this.options.store.runs.record(this.#runId, event));
    this.options.emit(event);
  }

  /**
   * Writes to the run's record in the index. On a full disk the run goes on without its record (the
   * events still reach the user) rather than crash; the step that needs space fails with a clear message.
   */
  #record(write: () => void): void {
    try {
      write();
    } catch (error) {
      if (!isDiskFull(error)) throw error;
    }
  }

  #failure(failure: Failure): void {
    this.#emit({type: 'failure', failure, at: this.#clock()});
  }

  #enqueue(instance: StepInstance): void {
    if (this.#stop.signal.aborted) return;
    this.#emit({type: 'step-queued', step: instance.ref, at: this.#clock()});
    this.#record(() => this.options.store.runs.setStep(this.#runId, this.#row(instance), {state: 'queued'}));
    void this.#queue.add(() => this.#process(instance));
  }

  #finish(step: StepRef, outcome: Outcome): void {
    if (this.#outcomes.has(step.instance)) return;
    this.#outcomes.set(step.instance, outcome);
    const instance = this.pipeline.instances.get(step.instance)!;
    this.#record(() => this.options.store.runs.setStep(this.#runId, this.#row(instance), {state: outcome, cached: outcome === 'cached', endedAt: this.#clock()}));
    this.#emit({type: 'step-end', step, outcome, at: this.#clock()});
    if (outcome === 'ran' || outcome === 'cached') {
      for (const dependent of this.#dependents.get(step.instance) ?? []) {
        const left = this.#remainingUpstream.get(dependent)! - 1;
        this.#remainingUpstream.set(dependent, left);
        if (left === 0) this.#enqueue(this.pipeline.instances.get(dependent)!);
      }
    } else if (outcome === 'failed') {
      const pending = [...(this.#dependents.get(step.instance) ?? [])];
      while (pending.length > 0) {
        const name = pending.pop()!;
        if (this.#outcomes.has(name)) continue;
        this.#finish(this.pipeline.instances.get(name)!.ref, 'skipped');
        pending.push(...(this.#dependents.get(name) ?? []));
      }
    }
  }

  async #process(instance: StepInstance): Promise<void> {
    if (this.#stop.signal.aborted) return;
    try {
      const bound = await bindInstance(this.pipeline, instance, this.#results, this.options.store.cas, keyContext(this.options.store, this.options.hostEnvironment));
      const misfit = checkResolvedParams(instance.step.kind, bound.params);
      if (misfit !== undefined) throw new StepError(misfit.message, 'the referenced output does not fit this parameter; check which output the reference names', misfit.param);
      this.#record(() => this.options.store.runs.setStep(this.#runId, this.#row(instance), {key: bound.key}));
      if (await this.#reuse(instance, bound)) return;
      await this.#withLease(instance, bound);
    } catch (error) {
      if (error instanceof Interrupted || this.#stop.signal.aborted) this.#finish(instance.ref, 'interrupted');
      else this.#fail(instance, error);
    }
  }

  /** A committed, intact result for this key (made by any run, earlier or concurrent) → cached. */
  async #reuse(instance: StepInstance, bound: BoundInstance): Promise<boolean> {
    const {store, force} = this.options;
    const hit = store.results.get(bound.key);
    if (hit === undefined) return false;
    // --force accepts only a result computed during this run's lifetime (by a concurrent run). The clock
    // ticks in milliseconds: a result stamped in the very millisecond this run started may be the previous
    // run's, so it is recomputed too (recomputing is always safe; reusing it would ignore --force).
    if (force?.has(instance.ref.instance) && hit.createdAt <= this.#startedAt) return false;
    const {usable, corrupt} = await store.results.verify(hit);
    for (const blob of corrupt) {
      const found = blob.actual === 'missing' ? 'is missing' : `has changed (now ${blob.actual})`;
      const text = `cached output blob ${blob.digest.slice(0, 12)} ${found}${blob.movedTo !== '' ? `; moved to ${blob.movedTo}` : ''}; recomputing this step`;
      this.#emit({type: 'step-log', step: instance.ref, stream: 'stderr', text, at: this.#clock()});
    }
    if (!usable) return false;
    this.#results.set(instance.ref.instance, hit);
    this.#finish(instance.ref, 'cached');
    return true;
  }

  async #withLease(instance: StepInstance, bound: BoundInstance): Promise<void> {
    const {store} = this.options;
    let announced = false;
    for (;;) {
      const lease = store.leases.acquire(bound.key, this.#runId, instance.ref.instance);
      if (lease.acquired) break;
      if (!announced) {
        this.#emit({type: 'step-log', step: instance.ref, stream: 'stderr', text: `waiting: run ${lease.holder.runId} (pid ${lease.holder.pid}) is computing the same step`, at: this.#clock()});
        announced = true;
      }
      await delay(this.options.leasePollMs ?? 200, this.#stop.signal);
      if (await this.#reuse(instance, bound)) return;
    }
    try {
      if (await this.#reuse(instance, bound)) return;
      await this.#execute(instance, bound);
    } finally {
      this.#record(() => store.leases.release(bound.key, this.#runId));
    }
  }

  async #execute(instance: StepInstance, bound: BoundInstance): Promise<void> {
    const {store} = this.options;
    const step = instance.step;
    const tokens = this.#pool.fit(step.resources);
    await this.#pool.acquire(tokens, this.#stop.signal).catch(() => {
      throw new Interrupted();
    });
    try {
      for (let attempt = 1; ; attempt++) {
        const startedAt = this.#clock();
        this.#emit({type: 'step-start', step: instance.ref, attempt, at: startedAt});
        this.#record(() => store.runs.setStep(this.#runId, this.#row(instance), {state: 'running', attempts: attempt, startedAt}));
        const scratchDir = await store.cas.tempDir(instance.ref.instance);
        const deadline = new StepDeadline(step.timeout);
        try {
          const outputs = await deadline.race(this.#executor(instance).execute({
            key: bound.key,
            kind: step.kind,
            params: bound.params,
            scratchDir,
            resources: tokens,
            signal: AbortSignal.any([this.#stop.signal, deadline.signal]),
            hostEnvironment: this.options.hostEnvironment,
            checkpoint: store.checkpoints.slot(bound.key),
            memo: store.memo.forKind(step.kind.name, this.#startedAt),
            progress: (done, total, unit) => this.#emit({type: 'step-progress', step: instance.ref, done, ...(total !== undefined ? {total} : {}), ...(unit !== undefined ? {unit} : {}), at: this.#clock()}),
            log: (text, stream) => this.#emit({type: 'step-log', step: instance.ref, stream, text, at: this.#clock()}),
            metric: (name, value, x) => this.#emit({type: 'step-metric', step: instance.ref, name, value, ...(x !== undefined ? {x} : {}), at: this.#clock()}),
            placed: (worker) => this.#emit({type: 'step-worker', step: instance.ref, worker, at: this.#clock()}),
            taskCounts: (counts) => this.#emit({type: 'step-tasks', step: instance.ref, ...counts, at: this.#clock()}),
          }));
          if (this.#stop.signal.aborted) throw new Interrupted();
          deadline.check();
          const record = await this.#publish(instance, bound, outputs, scratchDir, startedAt);
          store.checkpoints.delete(bound.key);
          this.#results.set(instance.ref.instance, record);
          this.#finish(instance.ref, 'ran');
          return;
        } catch (caught) {
          if (caught instanceof Interrupted || this.#stop.signal.aborted) throw new Interrupted();
          const error = deadline.expired ? deadline.error() : caught;
          if (attempt > step.retries) throw error;
          const delayMs = (this.options.retryBaseMs ?? 1000) * 2 ** (attempt - 1);
          this.#emit({type: 'step-retry', step: instance.ref, attempt: attempt + 1, delayMs, message: error instanceof Error ? error.message : String(error), at: this.#clock()});
          await delay(delayMs, this.#stop.signal);
        } finally {
          deadline.clear();
          await removeTree(scratchDir);
        }
      }
    } finally {
      this.#pool.release(tokens);
    }
  }

  #executor(instance: StepInstance): Executor {
    const step = instance.step;
    return this.options.executors[step.executor ?? this.options.executorOverride ?? step.kind.executor ?? this.options.defaultExecutor];
  }

  /** Outputs into the CAS first, then artifacts + result in one transaction: the result exists only if that commit happened. */
  async #publish(instance: StepInstance, bound: BoundInstance, returned: Record<string, OutputValue>, scratchDir: string, startedAt: number): Promise<ResultRecord> {
    const {cas} = this.options.store;
    const outputs: Record<string, OutputRecord> = {};
    const realScratch = await realpath(scratchDir);
    // Resolving links too: the store moves outputs in, so a path leading outside would move the user's files.
    const inScratch = async (path: string): Promise<string> => {
      const full = resolvePath(scratchDir, path);
      const real = await realpath(full).catch(() => full);
      if (!full.startsWith(scratchDir + sep) || !real.startsWith(realScratch + sep)) {
        throw new StepError(`step kind "${instance.step.kind.name}" returned output path ${path}, which leads outside its scratch directory`, 'outputs must be files written inside the scratch directory, not links to elsewhere');
      }
      return full;
    };
    try {
      return await this.#commit(instance, bound, returned, outputs, inScratch, startedAt);
    } catch (error) {
      // Out of space: give back what this step moved into the store that no result uses, so that at
      // least the run's failure can be recorded and the user's next command has room.
      if (isDiskFull(error)) {
        for (const output of Object.values(outputs)) {
          if (output.type === 'file' && this.options.store.results.keysUsing(output.digest).length === 0) await cas.removeBlob(output.digest);
        }
      }
      throw error;
    }
  }

  async #commit(
    instance: StepInstance,
    bound: BoundInstance,
    returned: Record<string, OutputValue>,
    outputs: Record<string, OutputRecord>,
    inScratch: (path: string) => Promise<string>,
    startedAt: number,
  ): Promise<ResultRecord> {
    const {cas} = this.options.store;
    for (const [name, decl] of Object.entries(instance.step.outputs)) {
      const value = returned[name];
      if (value === undefined) throw new Error(`step kind "${instance.step.kind.name}" did not return its declared output "${name}"`);
      if ((decl.type === 'file' || decl.type === 'path') && 'file' in value) outputs[name] = await cas.putFile(await inScratch(value.file));
      else if ((decl.type === 'dir' || decl.type === 'path') && 'dir' in value) outputs[name] = await cas.putDir(await inScratch(value.dir));
      else if (decl.type === 'value' && 'value' in value) outputs[name] = {type: 'value', digest: sha256Hex(canonicalJson(value.value)), value: value.value};
      else throw new Error(`step kind "${instance.step.kind.name}" returned output "${name}" as ${Object.keys(value)[0]}, but declares it as ${decl.type}`);
    }
    const now = this.#clock();
    const record: ResultRecord = {
      key: bound.key,
      stepId: instance.ref.id,
      instance: instance.ref.instance,
      kind: instance.ref.kind,
      keyParts: bound.keyParts,
      outputs,
      runId: this.#runId,
      durationMs: now - startedAt,
      createdAt: now,
    };
    this.options.store.results.publish(record, now);
    return record;
  }

  #fail(instance: StepInstance, cause: unknown): void {
    this.#failed = true;
    const step = instance.ref;
    const full = isDiskFull(cause) ? diskFullError(this.options.store.dir) : undefined;
    const error = full !== undefined ? new StepError(full.message, full.hint(this.options.hintCommand)) : cause;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof StepError) {
      const hint = error.hintAs(this.options.hintCommand ?? plainAxx);
      const diagnostic = {message, location: locateStep(this.pipeline, step.id, error.param), ...(hint !== undefined ? {hint} : {})};
      this.#failure({reason: 'step-failed', step, message, ...(hint !== undefined ? {hint} : {}), diagnostic});
    } else {
      this.#failure({reason: 'internal', step, error: error instanceof Error ? (error.stack ?? message) : message});
    }
    this.#record(() => this.options.store.runs.setStep(this.#runId, this.#row(instance), {error: message}));
    this.#finish(step, 'failed');
    if (this.options.failFast) this.#stop.abort(new Error('--fail-fast: a step failed'));
  }
}
