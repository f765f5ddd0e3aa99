// `axx dag <pipeline>`: the step graph as a text tree, Mermaid or DOT.
import {dagDot, dagMermaid, dagText} from '../../engine/dag-format.js';
import {parseArgs} from '../args.js';
import {ExitCode, UsageError, writeLine, type Command} from '../command.js';
import {loadFromArgs, paramOptions} from '../project.js';

export const dagCommand: Command = {
  name: 'dag',
  usage: 'Usage: axx dag <pipeline.yaml> [--mermaid | --dot | --json] [-p name=value]...',
  async run(argv, io) {
    const args = parseArgs(argv, [...paramOptions, {name: 'mermaid', type: 'flag'}, {name: 'dot', type: 'flag'}, {name: 'json', type: 'flag'}]);
    if ([...args.flags].length > 1) throw new UsageError('choose one of --mermaid, --dot, --json');
    const pipeline = await loadFromArgs(args, io);
    if (pipeline === undefined) return ExitCode.usage;
    if (args.flags.has('mermaid')) writeLine(io.stdout, dagMermaid(pipeline));
    else if (args.flags.has('dot')) writeLine(io.stdout, dagDot(pipeline));
    else if (args.flags.has('json')) {
      const instances = [...pipeline.instances.values()].map((i) => ({instance: i.ref.instance, id: i.ref.id, kind: i.ref.kind, matrix: i.matrix, upstream: i.upstream}));
      writeLine(io.stdout, JSON.stringify({name: pipeline.name, instances}));
    } else writeLine(io.stdout, dagText(pipeline));
    return ExitCode.ok;
  },
};
