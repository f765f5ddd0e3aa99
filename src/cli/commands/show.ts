// `axx show <run|step>`: a run's steps, or one step's params, outputs, metrics and log.
import type {Store} from '../../engine/store/store.js';
import {parseArgs} from '../args.js';
import {ExitCode, writeLine, type CliIo, type Command} from '../command.js';
import {cacheOption, openStore} from '../project.js';

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

function showStep(store: Store, name: string, runId: string | undefined, io: CliIo, json: boolean): boolean {
  const step = runId !== undefined ? store.runs.steps(runId).find((s) => s.instance === name || s.stepId === name) : store.runs.latestStep(name);
  if (step === undefined) return false;
  const result = step.key !== null ? store.results.get(step.key) : undefined;
  const outputs = Object.fromEntries(
    Object.entries(result?.outputs ?? {}).map(([k, o]) => [k, o.type === 'value' ? {type: 'value', value: o.value} : {type: o.type, digest: o.digest, size: o.size, path: store.cas.pathOf(o)}]),
  );
  const metrics = store.runs.metrics(step.runId, step.instance);
  const logs = store.runs.logs(step.runId, step.instance);
  if (json) {
    writeLine(io.stdout, JSON.stringify({step, params: result?.keyParts.params ?? null, inputs: result?.keyParts.inputs ?? null, outputs, metrics, log: logs}));
    return true;
  }
  writeLine(io.stdout, `${step.instance} [${step.kind}] in run ${step.runId}: ${step.state}${step.cached ? ' (cached)' : ''}`);
  if (step.key !== null) writeLine(io.stdout, `key: ${step.key}`);
  if (step.error !== null) writeLine(io.stdout, `error: ${step.error}`);
  if (result !== undefined) {
    writeLine(io.stdout, `params: ${JSON.stringify(result.keyParts.params, null, 2).replace(/\n/g, '\n  ')}`);
    writeLine(io.stdout, 'outputs:');
    for (const [k, o] of Object.entries(outputs)) writeLine(io.stdout, `  ${k}: ${'value' in o ? JSON.stringify(o.value) : `${o.type} ${o.digest.slice(0, 12)} ${o.size} B ${o.path}`}`);
  }
  if (metrics.length > 0) {
    writeLine(io.stdout, 'metrics:');
    for (const m of metrics) writeLine(io.stdout, `  ${m.name} = ${m.value}${m.x !== null ? ` @ ${m.x}` : ''}`);
  }
  if (logs.length > 0) {
    writeLine(io.stdout, 'log:');
    for (const l of logs) writeLine(io.stdout, `  ${l.stream === 'stderr' ? '!' : ' '} ${l.text}`);
  }
  return true;
}

export const showCommand: Command = {
  name: 'show',
  usage: 'Usage: axx show <run-id | step | step[instance]> [--run run-id] [--cache dir] [--json]\n\nA run id may be a unique prefix. A step shows its latest run unless --run is given.',
  async run(argv, io) {
    const args = parseArgs(argv, [cacheOption, {name: 'run', type: 'string'}, {name: 'json', type: 'flag'}]);
    const [target] = args.positionals;
    if (target === undefined) {
      writeLine(io.stderr, 'axx show: give a run id or a step name (axx runs lists runs)');
      return ExitCode.usage;
    }
    using store = openStore(args, io);
    const json = args.flags.has('json');
    const runs = store.runs.list(2, target);
    if (args.strings.get('run') === undefined && runs.length === 1) {
      showRun(store, runs[0]!.id, io, json);
      return ExitCode.ok;
    }
    const runId = args.strings.get('run') !== undefined ? store.runs.list(1, args.strings.get('run'))[0]?.id : undefined;
    if (showStep(store, target, runId, io, json)) return ExitCode.ok;
    writeLine(io.stderr, `axx show: no run or step named "${target}"${runs.length > 1 ? ' (the run id prefix is ambiguous)' : ''}; axx runs lists runs`);
    return ExitCode.usage;
  },
};
