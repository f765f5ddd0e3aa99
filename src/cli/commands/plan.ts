// `axx plan <pipeline>`: which instances are cached and which will run, and why.
import {planPipeline} from '../../engine/plan.js';
import {parseArgs} from '../args.js';
import {hostEnvironment} from '../host-environment.js';
import {ExitCode, writeLine, type Command} from '../command.js';
import {cacheOption, loadFromArgs, openStore, paramOptions, selectionFromArgs} from '../project.js';

export const planCommand: Command = {
  name: 'plan',
  usage:
    'Usage: axx plan <pipeline.yaml> [-p name=value]... [--params file.yaml] [--only step]... [--force step]... [--cache dir] [--json]\n\n' +
    'Per instance: "cached", "run" with the reasons (which key part changed since its last result), or "blocked" (waits for a step that will run).',
  async run(argv, io) {
    const args = parseArgs(argv, [...paramOptions, cacheOption, {name: 'only', type: 'list'}, {name: 'force', type: 'list'}, {name: 'json', type: 'flag'}]);
    const pipeline = await loadFromArgs(args, io);
    if (pipeline === undefined) return ExitCode.usage;
    const selection = selectionFromArgs(pipeline, args, io);
    if (selection === undefined) return ExitCode.usage;
    using store = openStore(args, io, pipeline.file);
    const plan = await planPipeline(pipeline, store, {...selection, hostEnvironment: hostEnvironment(io)});
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
