// `axx kinds`: the step kinds a pipeline can use, with their outputs.
import {stepKinds} from '../../steps/index.js';
import {parseArgs} from '../args.js';
import {ExitCode, writeLine, type Command} from '../command.js';

export const kindsCommand: Command = {
  name: 'kinds',
  usage: 'Usage: axx kinds [--json]\n\n  --json   one JSON document with each kind\'s name, version, description, parameter schema and outputs',
  async run(argv, io) {
    const args = parseArgs(argv, [{name: 'json', type: 'flag'}]);
    if (args.flags.has('json')) {
      const kinds = stepKinds.map((k) => ({name: k.name, version: k.version, description: k.description, schema: k.schema, outputs: k.outputs}));
      writeLine(io.stdout, JSON.stringify(kinds, null, 2));
      return ExitCode.ok;
    }
    const width = Math.max(...stepKinds.map((k) => k.name.length));
    for (const kind of stepKinds) writeLine(io.stdout, `${kind.name.padEnd(width)}  v${kind.version}  ${kind.description}`);
    return ExitCode.ok;
  },
};
