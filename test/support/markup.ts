// Test helpers: a tiny well-formedness check for the SVG and HTML the report emits (balanced tags,
// quoted attributes, known entities only), and element counting. Not a parser for arbitrary markup.

const VOID_HTML = new Set(['meta', 'link', 'br', 'hr', 'img', 'input']);

/** Problems found (empty when well-formed). `html` allows a doctype and HTML void elements. */
export function markupProblems(text: string, options: {html?: boolean} = {}): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!DOCTYPE html>|<(?!\/?[a-zA-Z])/g;
  for (const match of text.matchAll(tag)) {
    const [whole, closing, name, , selfClosing] = match;
    if (whole === '<!DOCTYPE html>') {
      if (!options.html) problems.push('doctype in SVG');
      continue;
    }
    if (name === undefined) {
      problems.push(`stray "<" at ${match.index}`);
      continue;
    }
    if (selfClosing === '/' || (options.html && VOID_HTML.has(name))) continue;
    if (closing === '/') {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}> at ${match.index}`);
    } else stack.push(name);
  }
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(', ')}`);
  // Every tag must have matched the pattern above (attributes quoted, no stray characters).
  const tags = text.match(/<[^>]*>/g) ?? [];
  for (const t of tags) if (!/^<(\/?[a-zA-Z][\w:-]*(\s+[\w:-]+="[^"<]*")*\s*\/?|!DOCTYPE html)>$/.test(t)) problems.push(`malformed tag ${t.slice(0, 60)}`);
  for (const entity of text.match(/&[^\s;]*;?/g) ?? []) if (!/^&(#\d+|amp|lt|gt|quot|apos);$/.test(entity)) problems.push(`bad entity ${entity}`);
  return problems;
}

/** Elements named `name`, optionally with a class. */
export function countElements(text: string, name: string, className?: string): number {
  const pattern = className === undefined ? new RegExp(`<${name}[\\s>/]`, 'g') : new RegExp(`<${name}\\s[^>]*class="${className}"`, 'g');
  return text.match(pattern)?.length ?? 0;
}
