// What most commands share: where the cache is, loading a pipeline with param overrides, and
// printing its diagnostics.
import {existsSync} from 'node:fs';
import {dirname, isAbsolute, join, relative, resolve} from 'node:path';
import type {Diagnostic} from '../engine/events.js';
import type {Pipeline} from '../engine/pipeline.js';
import {instancesNamed, withUpstream} from '../engine/select.js';
import {loadDiagnostics, loadPipelineFile, type LoadFailure, type PipelineLimits} from '../engine/spec/load-pipeline.js';
import {parseParamAssignment, readParamsFile, type ParamOverride} from '../engine/spec/param-overrides.js';
import {Store} from '../engine/store/store.js';
import {stepKinds} from '../steps/index.js';
import {axxCommand} from './invocation.js';
import type {ParsedArgs, OptionSpec} from './args.js';
import {UsageError, writeLine, type CliIo} from './command.js';
import {formatDiagnostic} from './diagnostics.js';

export const cacheOption: OptionSpec = {name: 'cache', type: 'string'};
export const paramOptions: OptionSpec[] = [
  {name: 'param', short: 'p', type: 'list'},
  {name: 'params', type: 'string'},
];

/** The directory holding the nearest package.json above `from`, or `from` itself. */
export function projectDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return from;
  }
}

/** --cache, else $AXX_CACHE, else <project>/cache (project: nearest package.json above the pipeline, or the cwd). */
export function cacheDir(args: ParsedArgs, io: CliIo, pipelineFile?: string): string {
  const explicit = args.strings.get('cache') ?? io.env['AXX_CACHE'];
  if (explicit !== undefined && explicit !== '') return resolve(io.cwd, explicit);
  return defaultCacheDir(io.cwd, pipelineFile);
}

function defaultCacheDir(cwd: string, pipelineFile: string | undefined): string {
  return join(projectDir(pipelineFile !== undefined ? dirname(pipelineFile) : cwd), 'cache');
}

/**
 * `--cache <dir>` for a command axx prints, unless `dir` is the cache that command finds by itself when
 * pasted in the same directory without options: watch/runs look next to the working directory, run next
 * to its `pipelineFile` (they differ for a pipeline of another project; --cache and $AXX_CACHE differ too).
 */
export function cacheArgs(dir: string, io: CliIo, pipelineFile?: string): string[] {
  if (dir === defaultCacheDir(io.cwd, pipelineFile)) return [];
  const path = relative(io.cwd, dir);
  return ['--cache', path === '' || path.startsWith('..') || isAbsolute(path) ? dir : path];
}

export function openStore(args: ParsedArgs, io: CliIo, pipelineFile?: string): Store {
  return Store.open(cacheDir(args, io, pipelineFile));
}

export function printDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) writeLine(io.stderr, formatDiagnostic(d, io.cwd));
  writeLine(io.stderr, `${diagnostics.length} error${diagnostics.length === 1 ? '' : 's'}`);
}

/** Limits on pipeline files the user raised through the environment (AXX_MAX_PIPELINE_BYTES, AXX_MAX_INSTANCES). */
function pipelineLimits(io: CliIo): Partial<PipelineLimits> {
  const positive = (name: string): number | undefined => {
    const value = Number(io.env[name]);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  };
  const documentBytes = positive('AXX_MAX_PIPELINE_BYTES');
  const instancesPerStep = positive('AXX_MAX_INSTANCES');
  return {...(documentBytes !== undefined ? {documentBytes} : {}), ...(instancesPerStep !== undefined ? {instancesPerStep} : {})};
}

/** Prints every diagnostic of a failed load to stderr. */
export function printLoadFailures(io: CliIo, failures: readonly LoadFailure[]): void {
  printDiagnostics(io, loadDiagnostics(failures));
}

/**
 * Loads the pipeline named by the first positional. On errors `onFailures` gets them (default: printed)
 * and the result is undefined.
 */
export async function loadFromArgs(
  args: ParsedArgs,
  io: CliIo,
  onFailures: (failures: readonly LoadFailure[]) => void = (failures) => printLoadFailures(io, failures),
): Promise<Pipeline | undefined> {
  const [file, ...extra] = args.positionals;
  if (file === undefined) throw new UsageError('give a pipeline file');
  if (extra.length > 0) {
    // `-p layers=[a, b]` unquoted reaches axx as two words (and a * or [..] may have been expanded by the shell).
    const splitParam = (args.lists.get('param') ?? []).length > 0;
    const quoteHint = `; if it is part of a -p value, the shell split it at a space or expanded a * or [..]: quote the whole assignment, e.g. -p 'layers=[blocks.*.attn.qkv, blocks.*.mlp.fc1]'`;
    throw new UsageError(`unexpected argument ${extra[0]}${splitParam ? quoteHint : ''}`);
  }
  const path = resolve(io.cwd, file);
  const overrides: ParamOverride[] = [];
  const errors: Diagnostic[] = [];
  const paramsFile = args.strings.get('params');
  if (paramsFile !== undefined) {
    const read = await readParamsFile(resolve(io.cwd, paramsFile));
    if (read.ok) overrides.push(...read.value);
    else errors.push(...read.error);
  }
  // -p comes after --params so the command line wins.
  for (const text of args.lists.get('param') ?? []) {
    const parsed = parseParamAssignment(text);
    if ('name' in parsed) overrides.push(parsed);
    else errors.push(parsed);
  }
  const loaded = await loadPipelineFile(path, {kinds: stepKinds, overrides, limits: pipelineLimits(io), command: (words) => axxCommand(io, words)});
  const failures: LoadFailure[] = [...(errors.length > 0 ? [{reason: 'schema-invalid' as const, diagnostics: errors}] : []), ...(loaded.ok ? [] : loaded.error)];
  if (failures.length > 0 || !loaded.ok) {
    onFailures(failures);
    return undefined;
  }
  return loaded.value;
}

/** The step options --only and --force as the engine takes them. */
export interface StepSelection {
  force: Set<string>;
  /** --only's instances and everything upstream of them; absent = the whole pipeline. */
  select?: Set<string>;
}

/** Reads --only/--force; undefined after printing the unknown names (a usage error). */
export function selectionFromArgs(pipeline: Pipeline, args: ParsedArgs, io: CliIo): StepSelection | undefined {
  const only = instancesNamed(pipeline, args.lists.get('only') ?? [], '--only');
  const force = instancesNamed(pipeline, args.lists.get('force') ?? [], '--force');
  if (!only.ok || !force.ok) {
    printDiagnostics(io, [...(only.ok ? [] : only.error), ...(force.ok ? [] : force.error)]);
    return undefined;
  }
  return {force: force.value, ...(only.value.size > 0 ? {select: withUpstream(pipeline, only.value)} : {})};
}
