// `axx cache verify`: rehash the CAS; corrupt blobs are quarantined and their results dropped; unreadable memo entries are dropped.
// `axx cache repair`: replace a damaged index, keeping every result it still yields.
import {repairStore, verifyStore} from '../../engine/store/maintenance.js';
import {parseArgs} from '../args.js';
import {ExitCode, UsageError, writeLine, type Command} from '../command.js';
import {cacheDir, cacheOption, openStore} from '../project.js';

export const cacheCommand: Command = {
  name: 'cache',
  usage:
    'Usage: axx cache verify [--cache dir] [--json]\n       axx cache repair [--cache dir] [--json]\n\n' +
    'verify: exit 0 if every blob matches its digest and every memo entry reads back, 1 if not (corrupt blobs are moved to cas/quarantine/ and the results using them dropped, unreadable memo entries dropped; the next run recomputes them).\n' +
    'repair: moves a damaged index.sqlite aside (to index-damaged-<time>/, never deleted), starts a fresh one with every result the damaged file still yields whose blobs are present, and registers all blobs; the next run recomputes the rest.',
  async run(argv, io) {
    const args = parseArgs(argv, [cacheOption, {name: 'json', type: 'flag'}]);
    const [sub, ...rest] = args.positionals;
    if ((sub !== 'verify' && sub !== 'repair') || rest.length > 0) throw new UsageError(sub === undefined ? 'give a subcommand: verify or repair' : `unknown subcommand "${sub}"; known: verify, repair`);
    if (sub === 'repair') {
      const repaired = await repairStore(cacheDir(args, io), Date.now());
      if (args.flags.has('json')) writeLine(io.stdout, JSON.stringify(repaired));
      else {
        const read = repaired.readable ? `${repaired.salvagedResults} results kept, ${repaired.droppedResults} dropped (blobs missing)` : 'the damaged index could not be read: no results kept (the next run recomputes them)';
        writeLine(io.stdout, `new index started; ${read}; ${repaired.registeredBlobs} blobs registered; the damaged index is in ${repaired.movedTo}`);
      }
      return ExitCode.ok;
    }
    using store = openStore(args, io);
    const report = await verifyStore(store);
    if (args.flags.has('json')) writeLine(io.stdout, JSON.stringify(report));
    else {
      for (const c of report.corrupt) writeLine(io.stdout, `corrupt: ${c.digest} (content hashes to ${c.actual.slice(0, 12)}…), moved to ${c.movedTo}`);
      for (const key of report.droppedMemo) writeLine(io.stdout, `unreadable memo entry dropped: ${key}`);
      writeLine(io.stdout, `${report.checked} blobs checked, ${report.corrupt.length} corrupt, ${report.droppedResults.length} results dropped; ${report.memoChecked} memo entries checked, ${report.droppedMemo.length} dropped (they will be recomputed)`);
    }
    return report.corrupt.length > 0 || report.droppedMemo.length > 0 ? ExitCode.stepFailed : ExitCode.ok;
  },
};
