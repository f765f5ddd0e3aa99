// `axx cache verify`: rehash the CAS; corrupt blobs are quarantined and their results dropped.
import {verifyStore} from '../../engine/store/maintenance.js';
import {parseArgs} from '../args.js';
import {ExitCode, UsageError, writeLine, type Command} from '../command.js';
import {cacheOption, openStore} from '../project.js';

export const cacheCommand: Command = {
  name: 'cache',
  usage: 'Usage: axx cache verify [--cache dir] [--json]\n\nExit 0 if every blob matches its digest, 1 if corrupt blobs were found (they are moved to cas/quarantine/ and the results using them are dropped, so the next run recomputes them).',
  async run(argv, io) {
    const args = parseArgs(argv, [cacheOption, {name: 'json', type: 'flag'}]);
    const [sub, ...rest] = args.positionals;
    if (sub !== 'verify' || rest.length > 0) throw new UsageError(sub === undefined ? 'give a subcommand: verify' : `unknown subcommand "${sub}"; known: verify`);
    using store = openStore(args, io);
    const report = await verifyStore(store);
    if (args.flags.has('json')) writeLine(io.stdout, JSON.stringify(report));
    else {
      for (const c of report.corrupt) writeLine(io.stdout, `corrupt: ${c.digest} (content hashes to ${c.actual.slice(0, 12)}…), moved to ${c.movedTo}`);
      writeLine(io.stdout, `${report.checked} blobs checked, ${report.corrupt.length} corrupt, ${report.droppedResults.length} results dropped (they will be recomputed)`);
    }
    return report.corrupt.length > 0 ? ExitCode.stepFailed : ExitCode.ok;
  },
};
