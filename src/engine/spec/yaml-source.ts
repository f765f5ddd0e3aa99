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

export function parseYamlSource(file: string, text: string): YamlSource {
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
  return {file, value: doc.errors.length > 0 ? undefined : doc.toJS({maxAliasCount: 1000}), errors, locate};
}
