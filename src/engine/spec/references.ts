// `${{ ... }}` references inside `with:` values. Params and matrix values are substituted when a
// pipeline is expanded; step outputs are substituted when the consuming step is about to run (or,
// for the cache key, by the producing artifacts' digests). A string that is exactly one reference
// takes the referenced value's type; a reference inside a longer string interpolates as text.
import type {Json} from '../step-kind.js';

export type Reference =
  | {scope: 'steps'; step: string; output: string; text: string}
  | {scope: 'params'; name: string; text: string}
  | {scope: 'matrix'; name: string; text: string};

export type ParsedExpression = {ok: true; ref: Reference} | {ok: false; text: string; message: string};

const EXPRESSION = /\$\{\{(.*?)\}\}/g;
const WHOLE = /^\$\{\{(.*?)\}\}$/;
const NAME = '[A-Za-z_][A-Za-z0-9_-]*';
const STEP_OUTPUT = new RegExp(`^steps\\.(${NAME})\\.outputs\\.(${NAME})$`);
const SIMPLE = new RegExp(`^(params|matrix)\\.(${NAME})$`);

export function parseExpression(inner: string, text: string): ParsedExpression {
  const expr = inner.trim();
  const step = STEP_OUTPUT.exec(expr);
  if (step) return {ok: true, ref: {scope: 'steps', step: step[1]!, output: step[2]!, text}};
  const simple = SIMPLE.exec(expr);
  if (simple) return {ok: true, ref: {scope: simple[1] as 'params' | 'matrix', name: simple[2]!, text}};
  return {ok: false, text, message: `cannot parse reference "${text}"`};
}

/** Every `${{ }}` expression in a string, parsed. */
export function expressionsIn(value: string): ParsedExpression[] {
  return [...value.matchAll(EXPRESSION)].map((m) => parseExpression(m[1]!, m[0]));
}

export type Resolver = (ref: Reference) => Json | undefined;

/** How a value is written into a longer string at `path` (below `with`); shell commands quote it. */
export type Embed = (value: Json, path: readonly (string | number)[]) => string;

/** Strings as they are, other values as JSON. */
export const embedAsText: Embed = (value) => (typeof value === 'string' ? value : JSON.stringify(value));

/** One word for /bin/sh: single quotes, with each ' written as '\''. Nothing inside is expanded. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Replaces references in a string: one whole-string reference keeps the value's type; inside a
 * longer string values are interpolated (objects and lists as JSON). A resolver returning
 * undefined leaves that reference as written.
 */
export function substituteString(value: string, resolve: Resolver, embed: Embed = embedAsText, path: readonly (string | number)[] = []): Json {
  const whole = WHOLE.exec(value);
  if (whole && !whole[1]!.includes('}}')) {
    const parsed = parseExpression(whole[1]!, value);
    if (!parsed.ok) return value;
    const resolved = resolve(parsed.ref);
    return resolved === undefined ? value : resolved;
  }
  return value.replace(EXPRESSION, (text, inner: string) => {
    const parsed = parseExpression(inner, text);
    if (!parsed.ok) return text;
    const resolved = resolve(parsed.ref);
    return resolved === undefined ? text : embed(resolved, path);
  });
}

/** Deep substitution over a JSON value (keys are never references); `embed` writes values into longer strings. */
export function substitute(value: Json, resolve: Resolver, embed: Embed = embedAsText, path: readonly (string | number)[] = []): Json {
  if (typeof value === 'string') return substituteString(value, resolve, embed, path);
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, resolve, embed, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: {[key: string]: Json} = {};
    for (const [k, v] of Object.entries(value)) out[k] = substitute(v, resolve, embed, [...path, k]);
    return out;
  }
  return value;
}

export interface ReferenceSite {
  /** JSON path below `with`. */
  path: (string | number)[];
  expression: ParsedExpression;
  /** The string is exactly this one reference (typed substitution). */
  whole: boolean;
}

/** All references in a value with where they sit. */
export function referenceSites(value: Json, path: (string | number)[] = []): ReferenceSite[] {
  if (typeof value === 'string') {
    const expressions = expressionsIn(value);
    const whole = expressions.length === 1 && WHOLE.test(value);
    return expressions.map((expression) => ({path, expression, whole}));
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => referenceSites(v, [...path, i]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => referenceSites(v, [...path, k]));
  return [];
}
