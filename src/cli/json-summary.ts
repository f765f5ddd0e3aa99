// JSON values as a terminal reader wants them: short values inline, long ones summarised to one line
// per field (lists as their length and first item, nested objects as their keys), so `axx show` of a
// search result prints a screenful instead of 100 KB on one line. `--json` still gives everything.

const INLINE = 100;

function inline(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** One line, at most about `width` characters. */
export function summariseJson(value: unknown, width = INLINE): string {
  const text = inline(value);
  if (text.length <= width) return text;
  if (typeof value === 'string') return `${JSON.stringify(value.slice(0, width - 12))}… (${value.length} chars)`;
  if (Array.isArray(value)) {
    const first = value.length > 0 ? `, first ${summariseJson(value[0], Math.max(20, width - 24))}` : '';
    return `[${value.length} items${first}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    let shown = '';
    for (const key of keys) {
      const next = shown === '' ? key : `${shown}, ${key}`;
      if (next.length > width - 16) return `{${shown}, … (${keys.length} keys)}`;
      shown = next;
    }
    return `{${shown}}`;
  }
  return text.slice(0, width);
}

/** Lines `indent + key: summary` for an object's fields (or the one-line summary of anything else). */
export function summariseFields(value: unknown, indent: string, width = INLINE): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || inline(value).length <= width) return [`${indent}${summariseJson(value, width)}`];
  return Object.entries(value).map(([key, field]) => `${indent}${key}: ${summariseJson(field, Math.max(20, width - key.length - 2))}`);
}
