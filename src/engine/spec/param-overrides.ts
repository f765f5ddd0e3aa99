// Pipeline parameter overrides from the command line (-p name=value) and from files (--params f.yaml).
import {readFile} from 'node:fs/promises';
import {parse} from 'yaml';
import type {Diagnostic} from '../events.js';
import type {Json} from '../step-kind.js';
import {decodeYamlBytes, firstMisfit, MAX_ALIASES, MAX_DEPTH, parseYamlSource, type SourceLocation} from './yaml-source.js';

export interface ParamOverride {
  name: string;
  value: Json;
  /** Where it came from, for messages ("-p lr=0.1" or a file location). */
  origin: string;
  location?: SourceLocation;
}

/** "name=value"; the value is read as a YAML scalar/flow value, so "3" is a number and "[a, b]" a list. */
export function parseParamAssignment(text: string): ParamOverride | Diagnostic {
  const eq = text.indexOf('=');
  if (eq <= 0) return {message: `-p ${text}: expected name=value`, hint: 'for example: -p epochs=3 or -p "layers=[fc1, fc2]"'};
  const name = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  let value: Json;
  try {
    value = (parse(raw, {maxAliasCount: MAX_ALIASES}) ?? '') as Json;
  } catch {
    value = raw;
  }
  if (firstMisfit(value) !== undefined) return {message: `-p ${text}: the value must be finite and at most ${MAX_DEPTH} levels deep`, hint: 'write a finite number such as 1e30, or quote it to pass text: -p "name=\'1e400\'"'};
  return {name, value, origin: `-p ${text}`};
}

/** A YAML mapping file of overrides. */
export async function readParamsFile(file: string): Promise<{ok: true; value: ParamOverride[]} | {ok: false; error: Diagnostic[]}> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    return {ok: false, error: [{message: `cannot read params file ${file}: ${(error as Error).message}`, hint: 'check the path given to --params'}]};
  }
  const decoded = decodeYamlBytes(file, bytes);
  if (!decoded.ok) return {ok: false, error: [decoded.error]};
  const source = parseYamlSource(file, decoded.text);
  if (source.errors.length > 0) return {ok: false, error: source.errors};
  const value = source.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {ok: false, error: [{message: `${file}: a params file must be a mapping of name: value`, location: source.locate([]), hint: 'for example:\nepochs: 3\nlr: 0.001'}]};
  }
  return {
    ok: true,
    value: Object.entries(value as Record<string, Json>).map(([name, v]) => ({name, value: v, origin: '--params', location: source.locate([name], {key: true})})),
  };
}

export function jsonTypeName(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'mapping';
  return typeof value;
}
