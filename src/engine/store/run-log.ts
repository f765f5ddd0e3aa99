// What happened in each run: its status, each step instance's state and timings, and the event
// stream (logs and metrics in their own tables so `axx show` reads them directly).
import {createHash} from 'node:crypto';
import {appendFileSync, mkdirSync, readdirSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import type {AxxEvent} from '../events.js';
import type {Json} from '../step-kind.js';
import type {Db} from './database.js';
import {isDiskFull} from './errors.js';
import {isAlive, thisHost} from './liveness.js';

/** Recorded progress: at most one event per step per this interval (plus the last one). */
export const PROGRESS_EVERY_MS = 500;
/**
 * Log text recorded in the index per step instance and run; past it the rest goes to a log file of its
 * own (logs/<run>/<instance>.log in the cache), so a flood of output cannot bloat the index.
 */
export const LOG_BYTES_PER_STEP = 256 * 1024;

export type RunStatus = 'running' | 'passed' | 'failed' | 'interrupted';

export interface RunRecord {
  id: string;
  params: Record<string, Json>;
  pipeline: string;
  name: string;
  command: string;
  status: RunStatus;
  pid: number;
  host: string;
  startedAt: number;
  endedAt: number | null;
}

export interface RunStepRecord {
  runId: string;
  instance: string;
  stepId: string;
  kind: string;
  key: string | null;
  state: string;
  cached: boolean;
  attempts: number;
  startedAt: number | null;
  endedAt: number | null;
  error: string | null;
}

interface RunRow {
  id: string;
  params: string;
  pipeline: string;
  name: string;
  command: string;
  status: RunStatus;
  pid: number;
  host: string;
  started_at: number;
  ended_at: number | null;
}

const toRun = (r: RunRow): RunRecord => ({id: r.id, params: JSON.parse(r.params) as Record<string, Json>, pipeline: r.pipeline, name: r.name, command: r.command, status: r.status, pid: r.pid, host: r.host, startedAt: r.started_at, endedAt: r.ended_at});

export class RunLog {
  #seq = new Map<string, number>();
  /** Per run and step instance: when progress was last written, and the newest progress held back since. */
  readonly #progressAt = new Map<string, number>();
  readonly #heldProgress = new Map<string, Extract<AxxEvent, {type: 'step-progress'}>>();
  /** Per run and step instance: log bytes recorded so far. */
  readonly #logBytes = new Map<string, number>();
  readonly #eventsAfter;
  readonly #insertEvent;
  readonly #insertLog;
  readonly #insertMetric;
  readonly #heartbeat;

  /** `overflowDir`: where each step's output past LOG_BYTES_PER_STEP is kept, one file per run and instance. */
  constructor(
    readonly db: Db,
    readonly overflowDir: string,
  ) {
    this.#insertEvent = db.prepare('INSERT INTO events (run_id, seq, at, type, instance, data) VALUES (?, ?, ?, ?, ?, ?)');
    this.#insertLog = db.prepare('INSERT INTO logs (run_id, instance, at, stream, text) VALUES (?, ?, ?, ?, ?)');
    this.#insertMetric = db.prepare('INSERT INTO metrics (run_id, instance, name, value, x, at) VALUES (?, ?, ?, ?, ?, ?)');
    this.#eventsAfter = db.prepare('SELECT seq, data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?');
    // ended_at doubles as the heartbeat of a running run (see recoverStale).
    this.#heartbeat = db.prepare("UPDATE runs SET ended_at = ? WHERE id = ? AND status = 'running'");
  }

  start(run: {id: string; pipeline: string; name: string; command: string; params: Record<string, Json>; at: number}): void {
    this.db
      .prepare("INSERT INTO runs (id, pipeline, name, command, params, status, pid, host, started_at, ended_at) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)")
      .run(run.id, run.pipeline, run.name, run.command, JSON.stringify(run.params), process.pid, thisHost, run.at, run.at);
  }

  heartbeat(runId: string, at: number): void {
    this.#heartbeat.run(at, runId);
  }

  end(runId: string, status: Exclude<RunStatus, 'running'>, at: number): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE runs SET status = ?, ended_at = ? WHERE id = ?').run(status, at, runId);
      this.db.prepare("UPDATE run_steps SET state = 'interrupted', ended_at = ? WHERE run_id = ? AND state IN ('running', 'queued', 'waiting')").run(at, runId);
    })();
  }

  /** Runs left `running` by a process that died (kill -9, power loss) are marked interrupted. */
  recoverStale(now: number): string[] {
    const stale = (this.db.prepare("SELECT * FROM runs WHERE status = 'running'").all() as RunRow[]).filter((r) => !isAlive(r.pid, r.host, r.ended_at ?? r.started_at, now));
    for (const run of stale) {
      try {
        this.end(run.id, 'interrupted', now);
      } catch (error) {
        // On a full disk the listing must still work (so the user can see what to gc); marked next time.
        if (!isDiskFull(error)) throw error;
      }
    }
    return stale.map((r) => r.id);
  }

  setStep(runId: string, step: {instance: string; stepId: string; kind: string}, patch: Partial<Omit<RunStepRecord, 'runId' | 'instance' | 'stepId' | 'kind'>>): void {
    this.db.prepare('INSERT OR IGNORE INTO run_steps (run_id, instance, step_id, kind, state) VALUES (?, ?, ?, ?, ?)').run(runId, step.instance, step.stepId, step.kind, 'waiting');
    const columns: Record<string, unknown> = {
      key: patch.key,
      state: patch.state,
      cached: patch.cached === undefined ? undefined : patch.cached ? 1 : 0,
      attempts: patch.attempts,
      started_at: patch.startedAt,
      ended_at: patch.endedAt,
      error: patch.error,
    };
    const set = Object.entries(columns).filter(([, v]) => v !== undefined);
    if (set.length === 0) return;
    this.db.prepare(`UPDATE run_steps SET ${set.map(([c]) => `${c} = ?`).join(', ')} WHERE run_id = ? AND instance = ?`).run(...set.map(([, v]) => v), runId, step.instance);
  }

  /**
   * Records an event in the run's ordered event log (what `axx watch` follows); logs and metrics also go to
   * their own tables for `axx show`. Progress is throttled to one event per step per PROGRESS_EVERY_MS; the
   * newest skipped one is kept back and written before that step's next event, so a watcher sees the final count.
   */
  record(runId: string, event: AxxEvent): void {
    if (event.type === 'step-progress') {
      const slot = `${runId}\0${event.step.instance}`;
      const last = this.#progressAt.get(slot);
      if (last !== undefined && event.at - last < PROGRESS_EVERY_MS && event.done !== event.total) {
        this.#heldProgress.set(slot, event);
        return;
      }
      this.#heldProgress.delete(slot);
      this.#progressAt.set(slot, event.at);
    } else if ('step' in event) {
      this.#flushProgress(`${runId}\0${event.step.instance}`, runId);
    } else if (event.type === 'run-end') {
      for (const slot of this.#heldProgress.keys()) if (slot.startsWith(`${runId}\0`)) this.#flushProgress(slot, runId);
    }
    if (event.type === 'step-log') {
      const slot = `${runId}\0${event.step.instance}`;
      const before = this.#logBytes.get(slot) ?? 0;
      const after = before + Buffer.byteLength(event.text);
      this.#logBytes.set(slot, after);
      if (before >= LOG_BYTES_PER_STEP) {
        this.#overflow(runId, event.step.instance, event.text);
        return;
      }
      if (after > LOG_BYTES_PER_STEP) {
        const notice = `[axx] this step's log passed ${LOG_BYTES_PER_STEP / 1024} KiB; the rest of its output is in ${this.overflowFile(runId, event.step.instance)}`;
        event = {...event, text: `${event.text}\n${notice}`};
      }
      this.#insertLog.run(runId, event.step.instance, event.at, event.stream, event.text);
    }
    else if (event.type === 'step-metric') this.#insertMetric.run(runId, event.step.instance, event.name, event.value, event.x ?? null, event.at);
    this.#append(runId, event);
  }

  /** The file holding a step's output past the recorded log (a readable name, plus a digest against collisions). */
  overflowFile(runId: string, instance: string): string {
    const readable = instance.replace(/[^A-Za-z0-9._=-]/g, '_').slice(0, 80);
    const digest = createHash('sha256').update(instance).digest('hex').slice(0, 8);
    return join(this.overflowDir, runId, `${readable}-${digest}.log`);
  }

  #overflow(runId: string, instance: string, text: string): void {
    const file = this.overflowFile(runId, instance);
    try {
      mkdirSync(join(this.overflowDir, runId), {recursive: true});
      appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
    } catch (error) {
      // The output was shown live; a full disk must not fail the step on its log.
      if (!isDiskFull(error)) throw error;
    }
  }

  #flushProgress(slot: string, runId: string): void {
    const held = this.#heldProgress.get(slot);
    if (held === undefined) return;
    this.#heldProgress.delete(slot);
    this.#progressAt.set(slot, held.at);
    this.#append(runId, held);
  }

  #append(runId: string, event: AxxEvent): void {
    const seq = (this.#seq.get(runId) ?? 0) + 1;
    this.#seq.set(runId, seq);
    this.#insertEvent.run(runId, seq, event.at, event.type, 'step' in event ? event.step.instance : null, JSON.stringify(event));
  }

  /** Every recorded event of the run with a sequence number above `seq`, in order (a watcher's cursor). */
  eventsAfter(runId: string, seq: number, limit = 10_000): {seq: number; event: AxxEvent}[] {
    return (this.#eventsAfter.all(runId, seq, limit) as {seq: number; data: string}[]).map((r) => ({seq: r.seq, event: JSON.parse(r.data) as AxxEvent}));
  }

  get(runId: string): RunRecord | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as RunRow | undefined;
    return row === undefined ? undefined : toRun(row);
  }

  /** Most recent first; `prefix` matches run ids by prefix. */
  list(limit: number, prefix = ''): RunRecord[] {
    return (this.db.prepare("SELECT * FROM runs WHERE id LIKE ? || '%' ORDER BY started_at DESC, rowid DESC LIMIT ?").all(prefix, limit) as RunRow[]).map(toRun);
  }

  steps(runId: string): RunStepRecord[] {
    const rows = this.db.prepare('SELECT * FROM run_steps WHERE run_id = ? ORDER BY rowid').all(runId) as Record<string, unknown>[];
    return rows.map((r) => ({
      runId: r['run_id'] as string,
      instance: r['instance'] as string,
      stepId: r['step_id'] as string,
      kind: r['kind'] as string,
      key: r['key'] as string | null,
      state: r['state'] as string,
      cached: r['cached'] === 1,
      attempts: r['attempts'] as number,
      startedAt: r['started_at'] as number | null,
      endedAt: r['ended_at'] as number | null,
      error: r['error'] as string | null,
    }));
  }

  /**
   * The latest run that has a step instance (or step id) `name`, of the pipeline `pipeline` (its name or file)
   * when given: the run `axx export` and `axx show` read a step's outputs from.
   */
  latestRunWithStep(name: string, pipeline?: string): RunRecord | undefined {
    const row = this.db
      .prepare(
        'SELECT r.* FROM runs r WHERE EXISTS (SELECT 1 FROM run_steps rs WHERE rs.run_id = r.id AND (rs.instance = ? OR rs.step_id = ?))' +
          ' AND (? IS NULL OR r.name = ? OR r.pipeline = ?) ORDER BY r.started_at DESC, r.rowid DESC LIMIT 1',
      )
      .get(name, name, pipeline ?? null, pipeline ?? null, pipeline ?? null) as RunRow | undefined;
    return row === undefined ? undefined : toRun(row);
  }

  /** The key this instance had in the latest run of this pipeline file that got as far as computing it. */
  lastKey(pipeline: string, instance: string): string | undefined {
    const row = this.db
      .prepare('SELECT rs.key FROM run_steps rs JOIN runs r ON r.id = rs.run_id WHERE r.pipeline = ? AND rs.instance = ? AND rs.key IS NOT NULL ORDER BY r.started_at DESC, r.rowid DESC LIMIT 1')
      .get(pipeline, instance) as {key: string} | undefined;
    return row?.key;
  }

  logs(runId: string, instance: string): {at: number; stream: string; text: string}[] {
    return this.db.prepare('SELECT at, stream, text FROM logs WHERE run_id = ? AND instance = ? ORDER BY rowid').all(runId, instance) as {at: number; stream: string; text: string}[];
  }

  metrics(runId: string, instance: string): {name: string; value: number; x: number | null; at: number}[] {
    return this.db.prepare('SELECT name, value, x, at FROM metrics WHERE run_id = ? AND instance = ? ORDER BY rowid').all(runId, instance) as {name: string; value: number; x: number | null; at: number}[];
  }

  events(runId: string): AxxEvent[] {
    return this.eventsAfter(runId, 0, -1).map((r) => r.event);
  }

  /** Every run id, most recent first. */
  ids(): string[] {
    return (this.db.prepare('SELECT id FROM runs ORDER BY started_at DESC, rowid DESC').all() as {id: string}[]).map((r) => r.id);
  }

  /** Directories under the overflow dir whose run is not recorded (left by a forgotten run or a replaced index). */
  orphanLogDirs(): string[] {
    let entries;
    try {
      entries = readdirSync(this.overflowDir, {withFileTypes: true});
    } catch {
      return [];
    }
    const known = this.db.prepare('SELECT 1 FROM runs WHERE id = ?');
    return entries.filter((e) => e.isDirectory() && known.get(e.name) === undefined).map((e) => e.name);
  }

  /** Deletes a run's record (steps, events, logs and metrics with it) and its overflow logs. Files first, so a full disk can be freed. */
  forget(runId: string): void {
    this.removeLogDir(runId);
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(runId);
  }

  removeLogDir(name: string): void {
    rmSync(join(this.overflowDir, name), {recursive: true, force: true});
  }

  /** Keys used (ran or cached) by the `count` most recent runs. */
  keysOfRecentRuns(count: number): Set<string> {
    const rows = this.db
      .prepare('SELECT DISTINCT rs.key FROM run_steps rs WHERE rs.key IS NOT NULL AND rs.run_id IN (SELECT id FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?)')
      .all(count) as {key: string}[];
    return new Set(rows.map((r) => r.key));
  }

  /** Keys the given runs bound so far (gc keeps their results while they run). */
  keysOfRuns(runIds: readonly string[]): Set<string> {
    const select = this.db.prepare('SELECT DISTINCT key FROM run_steps WHERE run_id = ? AND key IS NOT NULL');
    return new Set(runIds.flatMap((id) => (select.all(id) as {key: string}[]).map((r) => r.key)));
  }
}
