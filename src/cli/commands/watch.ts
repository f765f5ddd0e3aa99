// `axx watch [run]`: attach to a running or finished run through the SQLite event log (the writer
// records every event kind, progress throttled), drawing the same dashboard / plain lines / NDJSON as
// `axx run`. `axx run` on a terminal uses `followRun` too, on the background process it started.
import type {AxxEvent} from '../../engine/events.js';
import {isAlive, thisHost} from '../../engine/store/liveness.js';
import type {RunRecord} from '../../engine/store/run-log.js';
import type {Store} from '../../engine/store/store.js';
import {parseArgs} from '../args.js';
import {ExitCode, UsageError, writeLine, type CliIo, type Command} from '../command.js';
import {axxCommand} from '../invocation.js';
import {cacheArgs, cacheDir, cacheOption, openStore} from '../project.js';
import {defaultRenderer, renderers} from '../renderers/index.js';

/** ~10 polls per second: a watcher lags the run by at most this, and an idle poll is one indexed query. */
const POLL_MS = 100;
/** How often a watcher checks that a `running` run's process is still there (a killed run never writes run-end). */
const LIVENESS_EVERY_MS = 2_000;

export interface FollowOptions {
  renderer: string;
  pollMs?: number;
}

/** How following ended: the run's outcome, or `detached` when the viewer quit (q) and the run goes on. */
export type FollowEnd = 'passed' | 'failed' | 'interrupted' | 'detached';

/** Replays the run's events from the start, then follows new ones until the run ends or the viewer detaches. */
export async function followRun(store: Store, run: RunRecord, io: CliIo, options: FollowOptions): Promise<FollowEnd> {
  const makeRenderer = renderers[options.renderer];
  if (makeRenderer === undefined) throw new UsageError(`unknown renderer "${options.renderer}"; known: ${Object.keys(renderers).join(', ')}`);
  let detached = false;
  let wake: () => void = () => undefined;
  const interrupt = (): void => {
    const message = interruptRun(store, run.id);
    if (message !== undefined) writeLine(io.stderr, message);
  };
  const renderer = makeRenderer(io, {
    interrupt,
    detach: () => {
      detached = true;
      wake();
    },
  });
  // Ctrl-C outside raw mode (plain or NDJSON viewer) interrupts the watched run too; the viewer keeps
  // following until the run records its end (a second Ctrl-C ends the viewer at once, see main.ts).
  io.signal.addEventListener('abort', interrupt, {once: true});
  let cursor = 0;
  let end: FollowEnd | undefined;
  let checkedAt = 0;
  try {
    while (end === undefined && !detached) {
      const batch = store.runs.eventsAfter(run.id, cursor);
      for (const {seq, event} of batch) {
        cursor = seq;
        renderer.sink(event);
        if (event.type === 'run-end') end = event.reason;
      }
      if (end !== undefined || batch.length > 0) continue;
      const now = Date.now();
      if (now - checkedAt >= LIVENESS_EVERY_MS) {
        checkedAt = now;
        end = endedWithoutEvent(store, run.id, now);
        if (end !== undefined) {
          // Drain what was written between the last poll and the status change, then say how it ended.
          for (const {event} of store.runs.eventsAfter(run.id, cursor)) renderer.sink(event);
          renderer.sink({type: 'run-end', runId: run.id, reason: end, at: now});
          continue;
        }
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, options.pollMs ?? POLL_MS);
      });
    }
  } finally {
    io.signal.removeEventListener('abort', interrupt);
    await renderer.close();
  }
  return end ?? 'detached';
}

/** A run whose row is no longer `running` (or whose process died) but that never recorded run-end. */
function endedWithoutEvent(store: Store, runId: string, now: number): Exclude<FollowEnd, 'detached'> | undefined {
  store.runs.recoverStale(now);
  const status = store.runs.get(runId)?.status;
  return status === undefined || status === 'running' ? undefined : status;
}

/** Sends SIGINT to the run's process; returns why it could not, if so. */
export function interruptRun(store: Store, runId: string): string | undefined {
  const run = store.runs.get(runId);
  if (run === undefined || run.status !== 'running') return `run ${runId} is not running; nothing to interrupt`;
  if (run.host !== thisHost) return `run ${runId} runs on host ${run.host} (pid ${run.pid}); interrupt it there (kill -INT ${run.pid})`;
  if (!isAlive(run.pid, run.host, Date.now(), Date.now())) return `run ${runId}: its process ${run.pid} is gone`;
  try {
    process.kill(run.pid, 'SIGINT');
    return undefined;
  } catch (error) {
    return `run ${runId}: cannot signal pid ${run.pid} (${(error as Error).message}); interrupt it from its own terminal`;
  }
}

/** What the viewer prints once it lets go of the terminal (the dashboard's last frame is gone by then); `cache` is the run's cache dir. */
export function printFollowEnd(io: CliIo, run: RunRecord, end: FollowEnd, resumeCommand: string | undefined, cache: string): void {
  if (end === 'detached') {
    writeLine(io.stdout, `detached; run ${run.id} continues (pid ${run.pid}). Reattach with: ${axxCommand(io, ['watch', run.id, ...cacheArgs(cache, io)])}`);
    return;
  }
  writeLine(io.stdout, `run ${run.id} ${end}`);
  if (end === 'interrupted' && resumeCommand !== undefined) writeLine(io.stdout, `resume with:\n  ${resumeCommand}`);
}

/** The resume command the run recorded when it was interrupted (its `failure` event). */
export function recordedResumeCommand(store: Store, runId: string): string | undefined {
  const failures = store.runs.events(runId).filter((e): e is Extract<AxxEvent, {type: 'failure'}> => e.type === 'failure');
  for (const {failure} of failures.reverse()) if (failure.reason === 'interrupted') return failure.resumeCommand;
  return undefined;
}

export function exitCodeOf(end: FollowEnd): number {
  return end === 'passed' || end === 'detached' ? ExitCode.ok : end === 'interrupted' ? ExitCode.interrupted : ExitCode.stepFailed;
}

export const watchCommand: Command = {
  name: 'watch',
  usage: [
    'Usage: axx watch [run-id or prefix] [options]',
    '',
    '  --json           NDJSON events on stdout',
    `  --renderer name  output style: ${Object.keys(renderers).join(', ')} (default: ink on a terminal, plain otherwise)`,
    '  --cache dir      cache directory (default $AXX_CACHE, else <project>/cache)',
    '',
    'Keys in the dashboard: ↑↓ select, enter expand a matrix group, l log, f follow the running step again,',
    'q detach (the run continues), Ctrl-C stop the run (finished steps stay cached; the footer says which',
    'running steps resume from a checkpoint and which restart; the resume command is printed).',
    'Exits with the run\'s exit code when it ends (0 passed, 1 failed, 130 interrupted), 0 on detach.',
  ].join('\n'),
  async run(argv, io) {
    const args = parseArgs(argv, [cacheOption, {name: 'json', type: 'flag'}, {name: 'renderer', type: 'string'}]);
    const [prefix, extra] = args.positionals;
    if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
    const rendererName = args.flags.has('json') ? 'ndjson' : (args.strings.get('renderer') ?? defaultRenderer(io));
    const cache = cacheDir(args, io);
    using store = openStore(args, io);
    const matches = store.runs.list(2, prefix ?? '');
    const run = matches[0];
    if (run === undefined) {
      const listRuns = axxCommand(io, ['runs', ...cacheArgs(cache, io)]);
      writeLine(io.stderr, prefix === undefined ? `axx watch: no runs in ${cache} yet; start one with ${io.argv0} run <pipeline.yaml>` : `axx watch: no run id starts with "${prefix}" in ${cache}; list them with ${listRuns}`);
      return ExitCode.usage;
    }
    if (prefix !== undefined && matches.length > 1 && run.id !== prefix) {
      writeLine(io.stderr, `axx watch: "${prefix}" matches several runs (${matches.map((r) => r.id).join(', ')} …); give more of the id`);
      return ExitCode.usage;
    }
    const end = await followRun(store, run, io, {renderer: rendererName});
    if (rendererName === 'ink') printFollowEnd(io, run, end, recordedResumeCommand(store, run.id), cache);
    return exitCodeOf(end);
  },
};
