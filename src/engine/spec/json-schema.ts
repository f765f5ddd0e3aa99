// ajv setup shared by pipeline and step validation, turning ajv errors into located diagnostics
// with hints, and finding `x-axx-input` declarations inside a kind's parameter schema.
import {createRequire} from 'node:module';
import type {Ajv2020, ErrorObject, ValidateFunction} from 'ajv/dist/2020.js';
import type {Diagnostic} from '../events.js';
import type {InputDecl} from '../step-kind.js';
import {embedAsText, shellQuote, type Embed} from './references.js';
import type {JsonPath, YamlSource} from './yaml-source.js';

// ajv loads only when a schema has to be compiled (src/engine/spec/validators.ts): loading it costs as
// much as the rest of `axx plan`'s modules together, and the build precompiles the schemas axx ships.
const require = createRequire(import.meta.url);

/** `source`: keep each validator's code, for ajv's standalone output (the build's precompiled validators). */
export function createAjv({source = false}: {source?: boolean} = {}): Ajv2020 {
  const {Ajv2020: Ajv} = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  // ajv-formats is CommonJS: require gives the function itself.
  const addFormats = require('ajv-formats') as (ajv: Ajv2020) => Ajv2020;
  // No optimisation passes over the generated code: they cost a third of a cold compile (every `axx plan`
  // compiles the pipeline schema and each kind's), while validating a pipeline takes microseconds either way.
  const ajv = new Ajv({allErrors: true, useDefaults: true, strict: false, verbose: true, code: {optimize: false, source}});
  ajv.addKeyword({keyword: 'x-axx-input', schemaType: 'object'});
  ajv.addKeyword({keyword: 'x-axx-shell', schemaType: 'boolean'});
  ajv.addKeyword({keyword: 'x-axx-hint', schemaType: 'string'});
  addFormats(ajv);
  return ajv;
}

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Closest candidate by edit distance, for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

function describePath(path: JsonPath): string {
  return path.length === 0 ? 'the document' : path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');
}

function describe(error: ErrorObject, path: JsonPath): {message: string; hint?: string; keyOf?: string} {
  const where = describePath(path);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return {message: `${where}: missing required field "${String(params['missingProperty'])}"`, hint: `add ${String(params['missingProperty'])}: ...`};
    case 'additionalProperties': {
      const extra = String(params['additionalProperty']);
      const allowed = Object.keys((error.parentSchema as {properties?: Record<string, unknown>})?.properties ?? {});
      const guess = closest(extra, allowed);
      return {
        message: `${where}: unknown field "${extra}"`,
        hint: `${guess !== undefined ? `did you mean "${guess}"? ` : ''}allowed fields: ${allowed.join(', ') || '(none)'}`,
        keyOf: extra,
      };
    }
    case 'type':
      return {message: `${where} must be ${String(params['type'])}, got ${jsonType(error.data)}`};
    case 'enum':
      return {message: `${where} must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(error.data)}`};
    case 'propertyNames':
      return {message: `${where}: invalid name "${String(params['propertyName'])}"`, hint: 'names use letters, digits, "_" and "-" and start with a letter or "_"', keyOf: String(params['propertyName'])};
    case 'pattern':
      return {message: `${where} must match ${String(params['pattern'])}, got ${JSON.stringify(error.data)}`};
    case 'anyOf':
    case 'oneOf': {
      const forms = ((error.schema as Record<string, unknown>[] | undefined) ?? []).map((s) => String(s['type'] ?? 'a specific form'));
      return {message: `${where} must be ${[...new Set(forms)].join(' or ')}, got ${jsonType(error.data)}`};
    }
  }
  return {message: `${where} ${error.message ?? 'is invalid'}`};
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'number' && Number.isInteger(value) ? 'integer' : typeof value;
}

/**
 * Located diagnostics for ajv errors of a value found at `base` in `source`. Errors from the
 * branches of a failed anyOf/oneOf are folded into that one error; `skip` drops errors at paths
 * the caller checks elsewhere (references to step outputs).
 */
export function schemaDiagnostics(
  errors: readonly ErrorObject[],
  source: YamlSource,
  base: JsonPath,
  options: {skip?: (path: JsonPath) => boolean; hint?: string} = {},
): Diagnostic[] {
  // A failed anyOf/oneOf: if some branch had the right type, its specific errors say more than
  // "none of the forms"; otherwise report the union once, listing the accepted types.
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const branchesOf = (u: ErrorObject): ErrorObject[] => errors.filter((e) => e !== u && e.schemaPath.startsWith(`${u.schemaPath.slice(0, -u.keyword.length)}${u.keyword}/`));
  const dropped = new Set<ErrorObject>();
  for (const union of unions) {
    const branches = branchesOf(union);
    const specific = branches.filter((e) => e.keyword !== 'type');
    if (specific.length > 0) {
      dropped.add(union);
      for (const e of branches) if (e.keyword === 'type') dropped.add(e);
    } else for (const e of branches) dropped.add(e);
  }
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (dropped.has(error)) continue;
    // A bad property name is reported once, by propertyNames, not again by its inner pattern.
    if (error.schemaPath.includes('/propertyNames/')) continue;
    const path = [...base, ...pointerToPath(error.instancePath)];
    if (options.skip?.(path.slice(base.length))) continue;
    const {message, hint: generic, keyOf} = describe(error, path);
    // A schema may say what to do when its value is wrong (e.g. a parameter whose form changed).
    const own = (error.parentSchema as Schema | undefined)?.['x-axx-hint'];
    const hint = typeof own === 'string' ? own : generic;
    const location = keyOf !== undefined ? source.locate([...path, keyOf], {key: true}) : source.locate(path);
    const id = `${location.line}:${location.column}:${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const fullHint = [hint, options.hint].filter((h) => h !== undefined).join('; ');
    diagnostics.push({message, location, ...(fullHint !== '' ? {hint: fullHint} : {})});
  }
  return diagnostics;
}

type Schema = Record<string, unknown>;

function subSchemas(schema: Schema): Schema[] {
  const out: Schema[] = [schema];
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const list = schema[key];
    if (Array.isArray(list)) for (const s of list) if (s !== null && typeof s === 'object') out.push(...subSchemas(s as Schema));
  }
  return out;
}

/** The schema nodes that may describe the value at `path` (local `$ref`s are not followed). */
export function schemasAt(schema: Schema, path: JsonPath): Schema[] {
  let current = subSchemas(schema);
  for (const segment of path) {
    const next: Schema[] = [];
    for (const s of current) {
      const props = s['properties'] as Record<string, Schema> | undefined;
      if (typeof segment === 'string' && props?.[segment] !== undefined) next.push(...subSchemas(props[segment]!));
      else if (typeof segment === 'string' && s['additionalProperties'] !== null && typeof s['additionalProperties'] === 'object') next.push(...subSchemas(s['additionalProperties'] as Schema));
      if (typeof segment === 'number' && s['items'] !== null && typeof s['items'] === 'object') next.push(...subSchemas(s['items'] as Schema));
    }
    current = next;
  }
  return current;
}

/** The `x-axx-input` that applies at `path`; for a list of a matrix step's outputs it may sit on `items`. */
export function inputDeclAt(schema: Schema, path: JsonPath, list: boolean): InputDecl | undefined {
  const nodes = schemasAt(schema, path);
  for (const node of nodes) {
    if (list && node['items'] !== null && typeof node['items'] === 'object') {
      for (const item of subSchemas(node['items'] as Schema)) if (item['x-axx-input'] !== undefined) return item['x-axx-input'] as InputDecl;
    }
  }
  for (const node of nodes) if (node['x-axx-input'] !== undefined) return node['x-axx-input'] as InputDecl;
  return undefined;
}

/**
 * How references inside a longer string are written for a kind: where its schema marks a string
 * `"x-axx-shell": true` (a shell command), each value becomes one quoted word, so no value is ever run.
 */
export function embedFor(schema: Schema): Embed {
  return (value, path) => {
    const text = embedAsText(value, path);
    return schemasAt(schema, path).some((node) => node['x-axx-shell'] === true) ? shellQuote(text) : text;
  };
}

export type {ValidateFunction};
