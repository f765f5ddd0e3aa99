// `axx show <run|step>`: a run's steps, or one step's params, outputs, metrics and log.
import type {Store} from '../../engine/store/store.js';
import {parseArgs} from '../args.js';
import {ExitCode, writeLine, type CliIo, type Command} from '../command.js';
import {summariseFields} from '../json-summary.js';
import {axxCommand} from '../invocation.js';
import {cacheArgs, cacheDir, cacheOption, openStore} from '../project.js';
import {findStepInRun, listRunsCommand, runScopeFromArgs, runScopeOptions, type StepInRun} from '../run-scope.js';

function showRun(store: Store, runId: string, io: CliIo, json: boolean): void {
  const run = store.runs.get(runId)!;
  const steps = store.runs.steps(runId);
  if (json) {
    writeLine(io.stdout, JSON.stringify({...run, steps}));
    return;
  }
  writeLine(io.stdout, `run ${run.id}: ${run.name} (${run.pipeline})\nstatus:  ${run.status}\ncommand: ${run.command}`);
  const width = Math.max(0, ...steps.map((s) => s.instance.length));
  for (const s of steps) {
    const took = s.startedAt !== null && s.endedAt !== null && !s.cached ? ` ${((s.endedAt - s.startedAt) / 1000).toFixed(2)}s` : '';
    writeLine(io.stdout, `  ${s.instance.padEnd(width)}  ${s.state}${took}${s.attempts > 1 ? ` (${s.attempts} attempts)` : ''}${s.error !== null ? `: ${s.error.split('\n')[0]}` : ''}`);
  }
}

const significant = (value: number): string => String(Number(value.toPrecision(4)));

/** A metric's last value, and for a series its length and range (a finetune records hundreds of losses). */
function metricSummary(series: readonly {value: number; x: number | null}[]): string {
  const last = series.at(-1)!;
  const at = last.x !== null ? ` @ ${last.x}` : '';
  if (series.length === 1) return `${significant(last.value)}${at}`;
  const values = series.map((m) => m.value);
  return `${significant(last.value)}${at} (${series.length} values, min ${significant(Math.min(...values))}, max ${significant(Math.max(...values))})`;
}

function showStep(store: Store, {step, result}: StepInRun, io: CliIo, json: boolean, cache: string[]): void {
  const outputs = Object.fromEntries(
    Object.entries(result?.outputs ?? {}).map(([k, o]) => [k, o.type === 'value' ? {type: 'value', value: o.value} : {type: o.type, digest: o.digest, size: o.size, path: store.cas.pathOf(o)}]),
  );
  const metrics = store.runs.metrics(step.runId, step.instance);
  const logs = store.runs.logs(step.runId, step.instance);
  if (json) {
    writeLine(io.stdout, JSON.stringify({step, params: result?.keyParts.params ?? null, inputs: result?.keyParts.inputs ?? null, outputs, metrics, log: logs}));
    return;
  }
  writeLine(io.stdout, `${step.instance} [${step.kind}] in run ${step.runId}: ${step.state}${step.cached ? ' (cached)' : ''}`);
  if (step.key !== null) writeLine(io.stdout, `key: ${step.key}`);
  if (step.error !== null) writeLine(io.stdout, `error: ${step.error}`);
  if (result !== undefined) {
    writeLine(io.stdout, 'params:');
    for (const line of summariseFields(result.keyParts.params, '  ')) writeLine(io.stdout, line);
    writeLine(io.stdout, 'outputs:');
    for (const [k, o] of Object.entries(outputs)) {
      if (!('value' in o)) writeLine(io.stdout, `  ${k}: ${o.type} ${o.digest.slice(0, 12)} ${o.size} B ${o.path}`);
      else if (JSON.stringify(o.value).length <= 100) writeLine(io.stdout, `  ${k}: ${JSON.stringify(o.value)}`);
      else {
        writeLine(io.stdout, `  ${k}: value (the whole: ${axxCommand(io, ['export', `${step.instance}.${k}`, '--run', step.runId, ...cache])} <file>, or --json)`);
        for (const line of summariseFields(o.value, '    ')) writeLine(io.stdout, line);
      }
    }
  }
  if (metrics.length > 0) {
    writeLine(io.stdout, 'metrics:');
    const byName = new Map<string, typeof metrics>();
    for (const m of metrics) byName.set(m.name, [...(byName.get(m.name) ?? []), m]);
    for (const [name, series] of byName) writeLine(io.stdout, `  ${name} = ${metricSummary(series)}`);
  }
  if (logs.length > 0) {
    writeLine(io.stdout, 'log:');
    for (const l of logs) writeLine(io.stdout, `  ${l.stream === 'stderr' ? '!' : ' '} ${l.text}`);
  }
}

export const showCommand: Command = {
  name: 'show',
  usage:
    'Usage: axx show <run-id | step | step[instance]> [--run run-id | --pipeline name] [--cache dir] [--json]\n\n' +
    'A run id may be a unique prefix. A step is shown as it was in the latest run that has it (of --pipeline,\n' +
    'a pipeline name or file, when given), or in the run --run names.',
  async run(argv, io) {
    const args = parseArgs(argv, [cacheOption, ...runScopeOptions, {name: 'json', type: 'flag'}]);
    const [target] = args.positionals;
    if (target === undefined) {
      writeLine(io.stderr, `axx show: give a run id or a step name (${listRunsCommand(args, io)} lists runs)`);
      return ExitCode.usage;
    }
    using store = openStore(args, io);
    const json = args.flags.has('json');
    const scope = runScopeFromArgs(args, io);
    const runs = store.runs.list(2, target);
    if (scope.run === undefined && scope.pipeline === undefined && runs.length === 1) {
      showRun(store, runs[0]!.id, io, json);
      return ExitCode.ok;
    }
    const found = findStepInRun(store, target, scope);
    if (found.ok) {
      showStep(store, found.value, io, json, cacheArgs(cacheDir(args, io), io));
      return ExitCode.ok;
    }
    writeLine(io.stderr, `axx show: ${runs.length > 1 ? `run id prefix "${target}" is ambiguous, and ` : ''}${found.error}`);
    return ExitCode.usage;
  },
};
