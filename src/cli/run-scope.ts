// Which run a step name refers to, for `axx export`, `axx show` and the end-of-run summary: a step's
// outputs are those of one run (the latest run of the pipeline by default, `--run` for another),
// never "the most recently computed result with that name" (a variant run's, or none for a result
// reused under another step name). Failures are values that name the run and list what exists.
import {resolve} from 'node:path';
import type {RunRecord, RunStepRecord} from '../engine/store/run-log.js';
import type {ResultRecord} from '../engine/store/results.js';
import type {Store} from '../engine/store/store.js';
import type {ParsedArgs, OptionSpec} from './args.js';
import type {CliIo} from './command.js';
import {axxCommand} from './invocation.js';
import {cacheArgs, cacheDir} from './project.js';

export const runScopeOptions: OptionSpec[] = [
  {name: 'run', type: 'string'},
  {name: 'pipeline', type: 'string'},
];

export interface RunScope {
  /** A run id or unique prefix (--run). */
  run?: string;
  /** A pipeline's name or file (--pipeline): its latest run. */
  pipeline?: string;
  /** The command that lists the runs of this cache, as the user can paste it (for hints). */
  listRuns: string;
}

export function runScopeFromArgs(args: ParsedArgs, io: CliIo): RunScope {
  const run = args.strings.get('run');
  const pipeline = args.strings.get('pipeline');
  // A file name is matched by its absolute path, as runs record it; a bare name by the pipeline's name.
  const pipelineKey = pipeline === undefined ? undefined : /[/\\]|\.ya?ml$/.test(pipeline) ? resolve(io.cwd, pipeline) : pipeline;
  return {...(run !== undefined ? {run} : {}), ...(pipelineKey !== undefined ? {pipeline: pipelineKey} : {}), listRuns: listRunsCommand(args, io)};
}

/** `axx runs` as the user invoked axx, with --cache when the pasted command would not find this cache by itself. */
export function listRunsCommand(args: ParsedArgs, io: CliIo): string {
  return axxCommand(io, ['runs', ...cacheArgs(cacheDir(args, io), io)]);
}

export type Resolved<T> = {ok: true; value: T} | {ok: false; error: string};

export function findRun(store: Store, prefix: string, listRuns: string): Resolved<RunRecord> {
  const matches = store.runs.list(2, prefix);
  if (matches.length === 1) return {ok: true, value: matches[0]!};
  if (matches.length > 1) return {ok: false, error: `run id prefix "${prefix}" is ambiguous; give more characters (${listRuns} lists runs)`};
  return {ok: false, error: `no run id starts with "${prefix}"; ${listRuns} lists runs`};
}

export interface StepInRun {
  run: RunRecord;
  step: RunStepRecord;
  /** The stored result the step used in this run (computed by it or reused from the cache). */
  result?: ResultRecord;
}

export function describeRun(run: RunRecord): string {
  return `run ${run.id} (${run.name}, ${run.status})`;
}

/** Step `name` (an instance, or a step id with one instance) in the run the scope picks. */
export function findStepInRun(store: Store, name: string, scope: RunScope): Resolved<StepInRun> {
  let run: RunRecord | undefined;
  if (scope.run !== undefined) {
    const found = findRun(store, scope.run, scope.listRuns);
    if (!found.ok) return found;
    run = found.value;
  } else {
    run = store.runs.latestRunWithStep(name, scope.pipeline);
    if (run === undefined) {
      const latest = scope.pipeline === undefined ? store.runs.list(1)[0] : undefined;
      const where = scope.pipeline !== undefined ? `no run of pipeline "${scope.pipeline}" has a step "${name}"` : `no run has a step "${name}"`;
      if (latest === undefined) return {ok: false, error: `${where}; ${scope.listRuns} lists runs`};
      return {ok: false, error: `${where}; the latest ${describeRun(latest)} has: ${store.runs.steps(latest.id).map((s) => s.instance).join(', ')}`};
    }
  }
  const steps = store.runs.steps(run.id);
  const exact = steps.find((s) => s.instance === name);
  const ofStep = steps.filter((s) => s.stepId === name);
  if (exact === undefined && ofStep.length > 1) {
    return {ok: false, error: `step "${name}" has ${ofStep.length} instances in ${describeRun(run)}; name one: ${ofStep.map((s) => s.instance).join(', ')}`};
  }
  const step = exact ?? ofStep[0];
  if (step === undefined) return {ok: false, error: `${describeRun(run)} has no step "${name}"; its steps: ${steps.map((s) => s.instance).join(', ')}`};
  const result = step.key !== null ? store.results.get(step.key) : undefined;
  return {ok: true, value: {run, step, ...(result !== undefined ? {result} : {})}};
}

/** The hint that picks another run, for messages about a step without a result. */
export function earlierRunHint(run: RunRecord, listRuns: string): string {
  return `${describeRun(run)} has no result for it; pick another run with --run <id> (${listRuns} lists runs)`;
}
