// The cache key of a step instance: sha256 of the canonical JSON of its parts. Parts are kept with
// each result so `axx plan` can say which one changed. Never in a key: paths, times, run ids, thread counts.
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {canonicalJson, sha256Hex} from './canonical-json.js';
import type {Json} from './step-kind.js';

/** Bump when the meaning of the parts changes; every cached result then re-runs once. */
export const KEY_SCHEMA_VERSION = 1;

export interface KeyParts {
  schema: number;
  kind: string;
  kindVersion: number;
  /** `with:` after params/matrix substitution and defaults; references to step outputs stay as written. */
  params: Json;
  /** Reference text → content digest of the referenced output (a list for a matrix step's outputs). */
  inputs: Record<string, string | string[]>;
  /** The kind's keyExtras (contents of files it reads from disk …). */
  extras: Json;
  environment: {onnxruntime: string};
}

export function cacheKey(parts: KeyParts): string {
  return sha256Hex(canonicalJson(parts));
}

let onnxruntimeVersion: string | undefined;

/** Versions that change numeric results; read from the installed package, not from a running session. */
export function keyEnvironment(): KeyParts['environment'] {
  if (onnxruntimeVersion === undefined) {
    try {
      const require = createRequire(import.meta.url);
      const manifest = require.resolve('onnxruntime-node/package.json');
      onnxruntimeVersion = (JSON.parse(readFileSync(manifest, 'utf8')) as {version: string}).version;
    } catch {
      onnxruntimeVersion = 'none';
    }
  }
  return {onnxruntime: onnxruntimeVersion};
}

function short(value: Json | undefined): string {
  const text = value === undefined ? '(unset)' : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** One line per changed leaf; `values: false` names the leaf without its values (digests of what a kind read). */
function diffJson(before: Json | undefined, after: Json | undefined, path: string, out: string[], values = true): void {
  if (canonicalJson(before ?? null) === canonicalJson(after ?? null)) return;
  const isObject = (v: Json | undefined): v is {[k: string]: Json} => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) diffJson(before[key], after[key], `${path}.${key}`, out, values);
    return;
  }
  out.push(values ? `${path}: ${short(before)} → ${short(after)}` : `${path} changed`);
}

/** Human reasons why `next` differs from `previous` (empty when the keys are equal). */
export function keyChanges(previous: KeyParts, next: KeyParts): string[] {
  const reasons: string[] = [];
  if (previous.schema !== next.schema) reasons.push(`cache key schema ${previous.schema} → ${next.schema} (new axx)`);
  if (previous.kind !== next.kind) reasons.push(`kind ${previous.kind} → ${next.kind}`);
  else if (previous.kindVersion !== next.kindVersion) reasons.push(`${next.kind} implementation v${previous.kindVersion} → v${next.kindVersion}`);
  diffJson(previous.params, next.params, 'with', reasons);
  for (const ref of [...new Set([...Object.keys(previous.inputs), ...Object.keys(next.inputs)])].sort()) {
    const a = previous.inputs[ref];
    const b = next.inputs[ref];
    if (canonicalJson(a ?? null) !== canonicalJson(b ?? null)) reasons.push(a === undefined ? `new input ${ref}` : b === undefined ? `input ${ref} removed` : `input ${ref} content changed`);
  }
  diffJson(previous.extras, next.extras, 'extras', reasons, false);
  if (canonicalJson(previous.environment) !== canonicalJson(next.environment)) diffJson(previous.environment, next.environment, 'environment', reasons);
  return reasons;
}
