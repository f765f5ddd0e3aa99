// `axx export <artifact> <path>`: copy an artifact out of the CAS (writable, unlike the store's copy).
import {chmod, cp, mkdir, readdir} from 'node:fs/promises';
import {dirname, join, resolve} from 'node:path';
import type {StoredArtifact} from '../../engine/store/cas.js';
import type {Store} from '../../engine/store/store.js';
import {parseArgs} from '../args.js';
import {ExitCode, UsageError, writeLine, type Command} from '../command.js';
import {cacheOption, openStore} from '../project.js';

/** "<step or instance>.<output>" from the latest result, or a digest (unique prefix). */
function findArtifact(store: Store, name: string): StoredArtifact | string {
  const dot = name.lastIndexOf('.');
  if (dot > 0) {
    const result = store.results.latest(name.slice(0, dot));
    const output = result?.outputs[name.slice(dot + 1)];
    if (output !== undefined) return output.type === 'value' ? `${name} is a value output, not a file: ${JSON.stringify(output.value)}` : output;
    if (result !== undefined) return `step "${name.slice(0, dot)}" has no output "${name.slice(dot + 1)}"; its outputs: ${Object.keys(result.outputs).join(', ')}`;
  }
  if (/^[0-9a-f]{6,64}$/.test(name)) {
    const matches = store.results.artifactsByPrefix(name);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) return `digest prefix ${name} is ambiguous; give more characters`;
  }
  return `no artifact "${name}"; give <step>.<output> (as in "axx show <step>") or a digest`;
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(path);
    else await chmod(path, 0o644);
  }
}

export const exportCommand: Command = {
  name: 'export',
  usage: 'Usage: axx export <step.output | digest> <path> [--cache dir]',
  async run(argv, io) {
    const args = parseArgs(argv, [cacheOption]);
    const [name, target, ...extra] = args.positionals;
    if (name === undefined || target === undefined || extra.length > 0) throw new UsageError('give an artifact and a destination path');
    using store = openStore(args, io);
    const artifact = findArtifact(store, name);
    if (typeof artifact === 'string') {
      writeLine(io.stderr, `axx export: ${artifact}`);
      return ExitCode.usage;
    }
    const dest = resolve(io.cwd, target);
    await mkdir(dirname(dest), {recursive: true});
    await cp(store.cas.pathOf(artifact), dest, {recursive: true, dereference: true});
    if (artifact.type === 'dir') await makeWritable(dest);
    else await chmod(dest, 0o644);
    writeLine(io.stdout, `exported ${artifact.type} ${artifact.digest.slice(0, 12)} (${artifact.size} B) to ${dest}`);
    return ExitCode.ok;
  },
};
