// `axx plan <pipeline>`: which instances are cached and which will run, and why.
import {planPipeline} from '../../engine/plan.js';
import {instancesNamed, withUpstream} from '../../engine/select.js';
import {parseArgs} from '../args.js';
import {ExitCode, writeLine, type Command} from '../command.js';
import {cacheOption, loadFromArgs, openStore, paramOptions, printDiagnostics} from '../project.js';

export const planCommand: Command = {
  name: 'plan',
  summary: 'show which steps are cached and which would run, and why',
  usage:
    'Usage: axx plan <pipeline.yaml> [-p name=value]... [--params file.yaml] [--only step]... [--force step]... [--cache dir] [--json]\n\n' +
    'Per instance: "cached", "run" with the reasons (which key part changed since its last result), or "blocked" (waits for a step that will run).',
  async run(argv, io) {
    const args = parseArgs(argv, [...paramOptions, cacheOption, {name: 'only', type: 'list'}, {name: 'force', type: 'list'}, {name: 'json', type: 'flag'}]);
    const pipeline = await loadFromArgs(args, io);
    if (pipeline === undefined) return ExitCode.usage;
    const only = instancesNamed(pipeline, args.lists.get('only') ?? [], '--only');
    const force = instancesNamed(pipeline, args.lists.get('force') ?? [], '--force');
    if (!only.ok || !force.ok) {
      printDiagnostics(io, [...(only.ok ? [] : only.error), ...(force.ok ? [] : force.error)]);
      return ExitCode.usage;
    }
    using store = openStore(args, io, pipeline.file);
    const select = only.value.size > 0 ? withUpstream(pipeline, only.value) : undefined;
    const plan = await planPipeline(pipeline, store, {force: force.value, ...(select !== undefined ? {select} : {})});
    if (args.flags.has('json')) {
      writeLine(io.stdout, JSON.stringify(plan.map((p) => ({instance: p.step.instance, id: p.step.id, kind: p.step.kind, status: p.status, key: p.key ?? null, reasons: p.reasons}))));
      return ExitCode.ok;
    }
    const width = Math.max(...plan.map((p) => p.step.instance.length));
    for (const entry of plan) {
      writeLine(io.stdout, `${entry.status.padEnd(7)} ${entry.step.instance.padEnd(width)}${entry.reasons.length > 0 ? `  ${entry.reasons[0]}` : ''}`);
      for (const reason of entry.reasons.slice(1)) writeLine(io.stdout, `${' '.repeat(8 + width)}  ${reason}`);
    }
    const count = (s: string): number => plan.filter((p) => p.status === s).length;
    writeLine(io.stdout, `${count('cached')} cached, ${count('run')} to run, ${count('blocked')} blocked${count('error') ? `, ${count('error')} with errors` : ''}`);
    return count('error') > 0 ? ExitCode.stepFailed : ExitCode.ok;
  },
};
