// A parsed YAML file that can say where any JSON path came from (file:line:column), so every
// diagnostic — at load time or an hour into a run — points at the user's text.
import {isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node} from 'yaml';
import type {Diagnostic} from '../events.js';

export type JsonPath = readonly (string | number)[];

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  length?: number;
}

export interface YamlSource {
  file: string;
  value: unknown;
  /** Syntax errors (YAML), already located. */
  errors: Diagnostic[];
  /** Where a path's value is (or its key, with `key`); falls back to the deepest existing parent. */
  locate(path: JsonPath, options?: {key?: boolean}): SourceLocation;
}

/** Aliases expanded per document: enough for any real pipeline, far too few for an alias bomb. */
export const MAX_ALIASES = 100;
/** Nesting depth of mappings and lists. */
export const MAX_DEPTH = 64;

const strictUtf8 = new TextDecoder('utf-8', {fatal: true});

/** The byte offset of the first invalid UTF-8 sequence, or undefined if the bytes are valid UTF-8. */
export function invalidUtf8Offset(bytes: Uint8Array): number | undefined {
  try {
    strictUtf8.decode(bytes);
    return undefined;
  } catch {
    // Invalid somewhere: find where, one sequence at a time.
  }
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i]!;
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    try {
      strictUtf8.decode(bytes.subarray(i, i + length));
    } catch {
      return i;
    }
    i += length;
  }
  return bytes.length;
}

/**
 * Decodes a YAML file's bytes; a file that is not UTF-8 gets a diagnostic with the byte offset and line
 * instead of replacement characters that would surface later as a baffling value.
 */
export function decodeYamlBytes(file: string, bytes: Uint8Array): {ok: true; text: string} | {ok: false; error: Diagnostic} {
  const offset = invalidUtf8Offset(bytes);
  if (offset === undefined) return {ok: true, text: new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '')};
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  const column = offset - bytes.lastIndexOf(0x0a, offset - 1);
  return {
    ok: false,
    error: {
      message: `${file} is not UTF-8 at byte ${offset} (0x${bytes[offset]!.toString(16).padStart(2, '0')})`,
      location: {file, line, column, length: 1},
      hint: 'save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)',
    },
  };
}

/** The first path (if any) where a number is not finite or the nesting exceeds MAX_DEPTH; iterative, so any depth is safe. */
export function firstMisfit(value: unknown): {path: JsonPath; problem: 'not-finite' | 'too-deep'} | undefined {
  const stack: {value: unknown; path: (string | number)[]}[] = [{value, path: []}];
  while (stack.length > 0) {
    const {value: v, path} = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) return {path, problem: 'not-finite'};
    if (v === null || typeof v !== 'object') continue;
    if (path.length >= MAX_DEPTH) return {path, problem: 'too-deep'};
    if (Array.isArray(v)) v.forEach((item, i) => stack.push({value: item, path: [...path, i]}));
    else for (const [k, item] of Object.entries(v)) stack.push({value: item, path: [...path, k]});
  }
  return undefined;
}

/**
 * A cheap upper-bound look at nesting before parsing (the parser recurses, and takes seconds to fail on
 * thousands of levels): indentation levels plus open flow brackets outside quotes. Returns the 1-based
 * line where the estimate first passes `limit`.
 */
function deepNestingLine(text: string, limit: number): number | undefined {
  const indents: number[] = [];
  let flow = 0;
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    const content = raw.trimStart();
    if (content === '' || content.startsWith('#')) continue;
    const indent = raw.length - content.length;
    if (flow === 0) {
      while (indents.length > 0 && indents.at(-1)! >= indent) indents.pop();
      indents.push(indent);
    }
    let quote: string | undefined;
    for (const char of content) {
      if (quote !== undefined) {
        if (char === quote) quote = undefined;
      } else if (char === '"' || char === "'") quote = char;
      else if (char === '#') break;
      else if (char === '[' || char === '{') flow++;
      else if (char === ']' || char === '}') flow = Math.max(0, flow - 1);
      if (indents.length + flow > limit) return line;
    }
  }
  return undefined;
}

export function parseYamlSource(file: string, text: string): YamlSource {
  const tooDeep = deepNestingLine(text, MAX_DEPTH + 1);
  if (tooDeep !== undefined) {
    const location = {file, line: tooDeep, column: 1, length: 1};
    const error = {message: `nested more than ${MAX_DEPTH} levels deep`, location, hint: 'a pipeline needs only a few levels; flatten this value'};
    return {file, value: undefined, errors: [error], locate: () => location};
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true});
  const at = (offset: number, length?: number): SourceLocation => {
    const pos = lineCounter.linePos(offset);
    return {file, line: pos.line, column: pos.col, ...(length !== undefined ? {length} : {})};
  };
  const errors: Diagnostic[] = doc.errors.map((e) => ({
    message: `YAML syntax error: ${e.message.split('\n')[0]}`,
    location: at(e.pos[0], Math.max(1, e.pos[1] - e.pos[0])),
    hint: e.code === 'DUPLICATE_KEY' ? 'each key may appear once in a mapping' : 'check indentation and quoting around this position',
  }));
  const rangeOf = (node: Node | null | undefined): SourceLocation | undefined =>
    node?.range ? at(node.range[0], Math.max(1, node.range[1] - node.range[0])) : undefined;

  const locate = (path: JsonPath, options: {key?: boolean} = {}): SourceLocation => {
    let node: Node | null | undefined = doc.contents;
    let best = rangeOf(node) ?? at(0, 1);
    for (let i = 0; i < path.length; i++) {
      const segment = path[i]!;
      let next: Node | null | undefined;
      let keyNode: Node | null | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
        keyNode = pair?.key as Node | undefined;
        next = pair?.value as Node | null | undefined;
        if (pair !== undefined && (next === null || next === undefined || (options.key && i === path.length - 1))) {
          return rangeOf(keyNode) ?? best;
        }
      } else if (isSeq(node) && typeof segment === 'number') {
        next = node.items[segment] as Node | undefined;
      }
      if (next === undefined || next === null) return best;
      node = next;
      best = rangeOf(node) ?? best;
    }
    return best;
  };
  let value: unknown;
  if (errors.length === 0) {
    try {
      value = doc.toJS({maxAliasCount: MAX_ALIASES});
    } catch (error) {
      // The yaml library refuses an alias bomb with a ReferenceError and overflows on pathological nesting.
      if (!(error instanceof ReferenceError || error instanceof RangeError)) throw error;
      const what = error instanceof ReferenceError ? `expands more than ${MAX_ALIASES} aliases (*name)` : `is nested too deeply (the limit is ${MAX_DEPTH} levels)`;
      errors.push({message: `the document ${what}`, location: at(0, 1), hint: 'write the values out, or use ${{ params.<name> }} to reuse a value'});
    }
  }
  const misfit = errors.length === 0 ? firstMisfit(value) : undefined;
  if (misfit !== undefined) {
    errors.push(
      misfit.problem === 'not-finite'
        ? {message: 'numbers must be finite: .inf, .nan and values beyond ±1.8e308 are not allowed', location: locate(misfit.path), hint: 'write a finite number'}
        : {message: `nested more than ${MAX_DEPTH} levels deep`, location: locate(misfit.path), hint: 'a pipeline needs only a few levels; flatten this value'},
    );
  }
  return {file, value: errors.length > 0 ? undefined : value, errors, locate};
}
