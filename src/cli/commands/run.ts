// `axx run <pipeline>`: run what is not cached, print progress, set the exit code.
import {spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {closeSync, mkdirSync, openSync} from 'node:fs';
import {cpus} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import type {ExecutorName} from '../../engine/pipeline.js';
import {runPipeline} from '../../engine/run-pipeline.js';
import type {RunRecord} from '../../engine/store/run-log.js';
import type {Store} from '../../engine/store/store.js';
import {intOption, parseArgs, type ParsedArgs} from '../args.js';
import {ExitCode, UsageError, writeLine, type CliIo, type Command} from '../command.js';
import {executors, projectConfigFrom, queueExecutors, redisUrlFrom, remoteOptions, sharedBlobsFrom} from '../executors.js';
import {hostEnvironment} from '../host-environment.js';
import {QueueExecutor} from '../../engine/remote/queue-executor.js';
import {redactRedisUrl} from '../../engine/remote/redis.js';
import {axxCommand} from '../invocation.js';
import {cacheArgs, cacheDir, cacheOption, loadFromArgs, openStore, paramOptions, printLoadFailures, selectionFromArgs} from '../project.js';
import {runSummaryLines} from '../run-summary.js';
import {defaultRenderer, renderers} from '../renderers/index.js';
import {ndjsonRenderer} from '../renderers/ndjson.js';
import {exitCodeOf, followRun, printFollowEnd, recordedResumeCommand} from './watch.js';

/** Hidden: marks the background process that `axx run` on a terminal starts (see runInBackground). */
const BACKGROUND_FLAG = 'background';
/** How long the viewer waits for the background process to record its run before showing its log. */
const BACKGROUND_START_TIMEOUT_MS = 30_000;

const EXECUTORS: readonly ExecutorName[] = ['in-process', 'child-process'];

export const runCommand: Command = {
  name: 'run',
  usage: [
    'Usage: axx run <pipeline.yaml> [options]',
    '',
    '  -p, --param name=value   override a pipeline param (repeatable; YAML value syntax)',
    '  --params file.yaml       overrides from a file (-p wins)',
    '  --only step              run only this step/instance and what it needs (repeatable)',
    '  --force step             recompute this step/instance even if cached (repeatable)',
    '  -j, --jobs N             steps running at once (default: number of CPUs)',
    '  --fail-fast              stop at the first failure (default: keep going with independent steps)',
    '  --executor name          in-process or child-process for every step without its own executor: (default: the kind\'s preference, else in-process)',
    '  --json                   NDJSON events on stdout instead of plain lines',
    `  --renderer name          output style: ${Object.keys(renderers).join(', ')} (default: ink on a terminal, plain otherwise)`,
    '  --cache dir              cache directory (default $AXX_CACHE, else <project>/cache)',
    '  --redis url              run every step on `axx worker`s through Redis (default $AXX_REDIS_URL): redis://[user:pass@]host:port or rediss://',
    '  --blobs dir              with --redis: the blob directory every machine mounts (default $AXX_BLOBS)',
    '',
    'Exit codes: 0 passed, 1 a step failed, 2 usage/config error, 70 internal error, 130 interrupted.',
  ].join('\n'),
  async run(argv, io) {
    const args = parseArgs(argv, [
      ...paramOptions,
      cacheOption,
      ...remoteOptions,
      {name: 'only', type: 'list'},
      {name: 'force', type: 'list'},
      {name: 'jobs', short: 'j', type: 'string'},
      {name: 'fail-fast', type: 'flag'},
      {name: 'json', type: 'flag'},
      {name: 'renderer', type: 'string'},
      {name: 'executor', type: 'string'},
      {name: BACKGROUND_FLAG, type: 'flag'},
    ]);
    const jobs = intOption(args, 'jobs', 1) ?? cpus().length;
    const executorName = args.strings.get('executor') as ExecutorName | undefined;
    if (executorName !== undefined && !EXECUTORS.includes(executorName)) throw new UsageError(`--executor must be one of ${EXECUTORS.join(', ')}`);
    const pipelineArg = args.positionals[0];
    const config = projectConfigFrom(io, pipelineArg !== undefined ? dirname(resolve(io.cwd, pipelineArg)) : io.cwd);
    const redisUrl = redisUrlFrom(args, io, config);
    const sharedBlobs = redisUrl !== undefined ? sharedBlobsFrom(args, io, config) : undefined;
    const background = args.flags.has(BACKGROUND_FLAG);
    const rendererName = background ? 'plain' : args.flags.has('json') ? 'ndjson' : (args.strings.get('renderer') ?? defaultRenderer(io));
    const makeRenderer = renderers[rendererName];
    if (makeRenderer === undefined) throw new UsageError(`unknown renderer "${rendererName}"; known: ${Object.keys(renderers).join(', ')}`);

    // NDJSON consumers learn why a run never started from failure events, as they learn why one failed.
    const pipeline = await loadFromArgs(args, io, (failures) => {
      printLoadFailures(io, failures);
      if (rendererName !== 'ndjson') return;
      const {sink} = ndjsonRenderer(io);
      for (const failure of failures) sink({type: 'failure', failure, at: Date.now()});
    });
    if (pipeline === undefined) return ExitCode.usage;
    const selection = selectionFromArgs(pipeline, args, io);
    if (selection === undefined) return ExitCode.usage;
    using store = openStore(args, io, pipeline.file);
    // On a terminal the run lives in its own process and this one only views it, so q can give the
    // terminal back while the run goes on (axx watch reattaches) and Ctrl-C reaches it as SIGINT.
    if (rendererName === 'ink' && !background && io.relaunch !== undefined) return await runInBackground(argv, args, io, io.relaunch, store, pipeline.file);
    // The run stops on SIGINT/SIGTERM (io.signal) or when an interactive renderer asks (Ctrl-C in raw mode).
    const stop = new AbortController();
    const onSignal = (): void => stop.abort(io.signal.reason);
    if (io.signal.aborted) onSignal();
    io.signal.addEventListener('abort', onSignal, {once: true});
    const renderer = makeRenderer(io, {interrupt: () => stop.abort(new Error('interrupted from the dashboard'))});
    // The resume command repeats this one minus --force (what was forced and finished is now cached),
    // with --cache where the pasted command would not find this cache by itself, and never a Redis password.
    const resumeArgs = argv.filter((a, i) => a !== '--force' && argv[i - 1] !== '--force' && !a.startsWith('--force=') && a !== `--${BACKGROUND_FLAG}`).map(redactRedisUrl);
    const resumeCommand = axxCommand(io, ['run', ...resumeArgs, ...(args.strings.has('cache') ? [] : cacheArgs(cacheDir(args, io, pipeline.file), io, pipeline.file))]);
    const queue = redisUrl !== undefined && sharedBlobs !== undefined ? new QueueExecutor({redisUrl, local: store.cas, shared: sharedBlobs}) : undefined;
    const summary = await runPipeline(pipeline, {
      store,
      executors: queue !== undefined ? queueExecutors(queue) : executors(),
      defaultExecutor: 'in-process',
      ...(executorName !== undefined ? {executorOverride: executorName} : {}),
      emit: renderer.sink,
      hostEnvironment: hostEnvironment(io),
      signal: stop.signal,
      concurrency: jobs,
      budget: {cpu: cpus().length, gpu: 1}, // one GPU: steps holding a gpu token take turns on it
      failFast: args.flags.has('fail-fast'),
      ...selection,
      command: resumeCommand,
      hintCommand: (words) => axxCommand(io, words),
    });
    io.signal.removeEventListener('abort', onSignal);
    await queue?.close();
    await renderer.close();
    if (summary.reason === 'passed' && rendererName !== 'ndjson') for (const line of runSummaryLines(store, summary.runId, io, cacheArgs(cacheDir(args, io, pipeline.file), io, pipeline.file))) writeLine(io.stdout, line);
    if (summary.reason === 'failed' && rendererName !== 'ndjson') {
      writeLine(io.stderr, `after fixing, re-run (finished steps stay cached):\n  ${resumeCommand}`);
    }
    return summary.reason === 'passed' ? ExitCode.ok : summary.reason === 'interrupted' ? ExitCode.interrupted : ExitCode.stepFailed;
  },
};

/** The --cache the user gave, for commands printed to paste. */
/**
 * Starts this same command with --background in a detached process (own session, output to a log file
 * under the cache dir), waits until it records its run (its pid is in the run row), then follows it
 * like `axx watch`.
 */
async function runInBackground(argv: readonly string[], args: ParsedArgs, io: CliIo, relaunch: NonNullable<CliIo['relaunch']>, store: Store, pipelineFile: string): Promise<number> {
  const logDir = join(cacheDir(args, io, pipelineFile), 'logs');
  mkdirSync(logDir, {recursive: true});
  const logFile = join(logDir, `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}.log`);
  const out = openSync(logFile, 'a');
  const child = spawn(relaunch.execPath, [...relaunch.args, 'run', ...argv, `--${BACKGROUND_FLAG}`], {
    cwd: io.cwd,
    env: {...io.env, AXX_ARGV0: io.argv0},
    stdio: ['ignore', out, out],
    detached: true,
  });
  closeSync(out);
  child.unref();
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const pid = child.pid;
  const deadline = Date.now() + BACKGROUND_START_TIMEOUT_MS;
  let run: RunRecord | undefined;
  while (pid !== undefined && exited === undefined && Date.now() < deadline) {
    run = store.runs.list(10).find((r) => r.pid === pid);
    if (run !== undefined) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (run === undefined) {
    writeLine(io.stderr, `axx run: the background run did not start (exit code ${exited ?? 'none yet'}); its output is in ${logFile}`);
    return exited === undefined || exited === null ? ExitCode.internal : exited;
  }
  const end = await followRun(store, run, io, {renderer: 'ink'});
  printFollowEnd(io, run, end, recordedResumeCommand(store, run.id), cacheDir(args, io, pipelineFile));
  if (end === 'passed') for (const line of runSummaryLines(store, run.id, io, cacheArgs(cacheDir(args, io, pipelineFile), io, pipelineFile))) writeLine(io.stdout, line);
  if (end !== 'passed') writeLine(io.stdout, `run output: ${logFile}`);
  return exitCodeOf(end);
}
