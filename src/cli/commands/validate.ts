// `axx validate <pipeline>`: load and check only; nothing runs, the cache is not opened.
import {parseArgs} from '../args.js';
import {ExitCode, writeLine, type Command} from '../command.js';
import {loadFromArgs, paramOptions} from '../project.js';

export const validateCommand: Command = {
  name: 'validate',
  usage: 'Usage: axx validate <pipeline.yaml> [-p name=value]... [--params file.yaml] [--json]\n\nPrints every problem as file:line:column with a hint; exit 2 if there is any.',
  async run(argv, io) {
    const args = parseArgs(argv, [...paramOptions, {name: 'json', type: 'flag'}]);
    const pipeline = await loadFromArgs(args, io);
    if (pipeline === undefined) return ExitCode.usage;
    const instances = pipeline.instances.size;
    if (args.flags.has('json')) writeLine(io.stdout, JSON.stringify({ok: true, name: pipeline.name, steps: pipeline.steps.size, instances}));
    else writeLine(io.stdout, `${pipeline.file}: ok (${pipeline.steps.size} steps, ${instances} instances)`);
    return ExitCode.ok;
  },
};
