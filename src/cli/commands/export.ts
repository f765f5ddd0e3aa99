// `axx export <step.output> <path>`: copy one run's output out of the CAS (writable, unlike the store's
// copy). The step is looked up in one run (src/cli/run-scope.ts); a value output is written as JSON. A file
// exported onto an existing directory goes inside it under its own name; a directory output exported onto
// an existing directory is merged into it (its files replace same-named ones, others stay), so exporting
// again to the same path gives the same tree. The copy goes to a temporary sibling first and is renamed
// into place, so an interrupted export leaves no half-written file.
import {randomBytes} from 'node:crypto';
import {chmod, cp, mkdir, readdir, rename, rm, stat, writeFile} from 'node:fs/promises';
import {basename, dirname, join, resolve} from 'node:path';
import type {StoredArtifact} from '../../engine/store/cas.js';
import type {OutputRecord} from '../../engine/store/results.js';
import type {RunRecord} from '../../engine/store/run-log.js';
import type {Store} from '../../engine/store/store.js';
import {parseArgs} from '../args.js';
import {ExitCode, UsageError, writeLine, type Command} from '../command.js';
import {cacheOption, openStore} from '../project.js';
import {runProvenance} from '../run-provenance.js';
import {describeRun, earlierRunHint, findStepInRun, runScopeFromArgs, runScopeOptions, type Resolved, type RunScope} from '../run-scope.js';

interface Found {
  output: OutputRecord;
  /** The run the output was read from (absent for a digest). */
  run?: RunRecord;
  /** <step>.<output>, or the digest. */
  name: string;
  /** The name the artifact gets inside a destination directory. */
  fileName: string;
  /** Where it came from, for the confirmation line. */
  origin: string;
}

function findOutput(store: Store, name: string, scope: RunScope): Resolved<Found> {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return {ok: false, error: `give <step>.<output> (as in "axx show <step>") or a digest, not "${name}"`};
  const [stepName, outputName] = [name.slice(0, dot), name.slice(dot + 1)];
  const found = findStepInRun(store, stepName, scope);
  if (!found.ok) return found;
  const {run, step, result} = found.value;
  if (result === undefined) return {ok: false, error: `step "${step.instance}" ${step.state} in ${describeRun(run)}: ${earlierRunHint(run, scope.listRuns)}`};
  const output = result.outputs[outputName];
  if (output === undefined) return {ok: false, error: `step "${step.instance}" in ${describeRun(run)} has no output "${outputName}"; its outputs: ${Object.keys(result.outputs).join(', ')}`};
  const fileName = output.type === 'value' ? `${step.instance}.${outputName}.json` : `${step.instance}.${outputName}`;
  return {ok: true, value: {output, run, name: `${step.instance}.${outputName}`, fileName: fileName.replace(/[^\w.=,@+-]/g, '_'), origin: `${step.instance}.${outputName} of ${describeRun(run)}`}};
}

function findByDigest(store: Store, prefix: string): Resolved<Found> {
  const matches = store.results.artifactsByPrefix(prefix);
  if (matches.length > 1) return {ok: false, error: `digest prefix ${prefix} is ambiguous; give more characters`};
  const artifact: StoredArtifact | undefined = matches[0];
  if (artifact === undefined) return {ok: false, error: `no artifact with digest ${prefix}`};
  return {ok: true, value: {output: artifact, name: artifact.digest, fileName: artifact.digest.slice(0, 12), origin: `artifact ${artifact.digest.slice(0, 12)}`}};
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(path);
    else await chmod(path, 0o644);
  }
}

/** Writes the output to `dest` through a temporary sibling, so `dest` is either complete or untouched. */
async function writeOutput(store: Store, output: OutputRecord, dest: string): Promise<void> {
  const temp = join(dirname(dest), `.${basename(dest)}.axx-export-${randomBytes(4).toString('hex')}`);
  try {
    if (output.type === 'value') {
      await writeFile(temp, `${JSON.stringify(output.value, null, 2)}\n`);
    } else {
      await cp(store.cas.pathOf(output), temp, {recursive: true, dereference: true});
      if (output.type === 'dir') await makeWritable(temp);
      else await chmod(temp, 0o644);
    }
    if (output.type === 'dir' && (await stat(dest).catch(() => undefined))?.isDirectory()) {
      for (const entry of await readdir(temp)) {
        await rm(join(dest, entry), {recursive: true, force: true});
        await rename(join(temp, entry), join(dest, entry));
      }
    } else {
      await rename(temp, dest);
    }
  } finally {
    await rm(temp, {recursive: true, force: true});
  }
}

const kindOf = (output: OutputRecord): string => (output.type === 'value' ? 'value (JSON)' : output.type);

export const exportCommand: Command = {
  name: 'export',
  usage: [
    'Usage: axx export <step.output | digest> <path> [--run run-id | --pipeline name] [--provenance] [--cache dir]',
    '',
    'The step is read from the latest run that has it (of --pipeline, a pipeline name or file, when given),',
    'or from the run --run names (a unique id prefix; axx runs lists runs). A value output is written as',
    'JSON. A file exported onto an existing directory goes inside it as <step>.<output>[.json]; a directory',
    'output is merged into an existing directory (same-named files replaced, others kept).',
    '',
    '  --provenance   also write <path>.provenance.json: the run (id, command, dates), the pipeline file,',
    "                 every step's parameters, input digests and cache key, and the versions used",
  ].join('\n'),
  async run(argv, io) {
    const args = parseArgs(argv, [cacheOption, ...runScopeOptions, {name: 'provenance', type: 'flag'}]);
    const [name, target, ...extra] = args.positionals;
    if (name === undefined || target === undefined || extra.length > 0) throw new UsageError('give an artifact and a destination path');
    const scope = runScopeFromArgs(args, io);
    using store = openStore(args, io);
    const byDigest = /^[0-9a-f]{6,64}$/.test(name) && !name.includes('.');
    const found = byDigest ? findByDigest(store, name) : findOutput(store, name, scope);
    if (!found.ok) {
      writeLine(io.stderr, `axx export: ${found.error}`);
      return ExitCode.usage;
    }
    const {output, run, name: exportedName, fileName, origin} = found.value;
    if (args.flags.has('provenance') && run === undefined) throw new UsageError('--provenance needs <step>.<output> (a digest belongs to no run)');
    let dest = resolve(io.cwd, target);
    if (output.type !== 'dir' && (await stat(dest).catch(() => undefined))?.isDirectory()) dest = join(dest, fileName);
    const existing = await stat(dest).catch(() => undefined);
    if (existing !== undefined && existing.isDirectory() !== (output.type === 'dir')) {
      writeLine(io.stderr, `axx export: ${dest} is a ${existing.isDirectory() ? 'directory' : 'file'} and ${origin} is ${output.type === 'dir' ? 'a directory' : 'not'}; give another path`);
      return ExitCode.usage;
    }
    await mkdir(dirname(dest), {recursive: true});
    await writeOutput(store, output, dest);
    const size = output.type === 'value' ? '' : ` (${output.size} B)`;
    writeLine(io.stdout, `exported ${kindOf(output)} ${origin}${size} to ${dest}`);
    if (args.flags.has('provenance') && run !== undefined) {
      const provenance = runProvenance(store, run, {output: exportedName, digest: output.digest});
      await writeOutput(store, {type: 'value', digest: '', value: provenance}, `${dest}.provenance.json`);
      writeLine(io.stdout, `provenance of run ${run.id} to ${dest}.provenance.json`);
    }
    return ExitCode.ok;
  },
};
