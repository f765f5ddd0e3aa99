// Tool results (synthesis, power) take seconds to minutes and depend only on their inputs, so they are
// memoised in the caller's store (a step passes its memo) under a key naming everything they depend on:
// RTL text, tool version, Liberty digest, script version. Being the engine's memo, the entries live in
// the cache the run uses (`--cache`), never in a directory of their own.
import {createHash} from 'node:crypto';
import type {Json} from '../util/json.js';

export interface FigureMemo {
  get(key: string): Promise<Json | undefined>;
  set(key: string, value: Json): Promise<void>;
}

/** "hw/<what>:<sha256 of the parts>"; each part is length-prefixed, so no two part lists collide. */
export function figureKey(what: string, parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:${part}`);
  return `hw/${what}:${hash.digest('hex')}`;
}

/**
 * The memoised value of `key`, or computes, stores and returns it. `read` checks an entry's shape and
 * returns undefined for one it cannot use, which is then recomputed. No memo = no memoisation.
 */
export async function memoised<T>(memo: FigureMemo | undefined, key: string, compute: () => Promise<T>, read: (entry: Json) => T | undefined): Promise<T> {
  const known = memo === undefined ? undefined : await memo.get(key);
  const usable = known === undefined ? undefined : read(known);
  if (usable !== undefined) return usable;
  const value = await compute();
  await memo?.set(key, JSON.parse(JSON.stringify(value)) as Json);
  return value;
}

/** `entry` when it is an object whose `fields` are all numbers, else undefined. */
export function withNumbers<T>(entry: Json, fields: readonly (keyof T & string)[]): T | undefined {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return undefined;
  return fields.every((field) => typeof entry[field] === 'number') ? (entry as T) : undefined;
}
