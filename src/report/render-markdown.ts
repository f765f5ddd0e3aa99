// The same report as Markdown: tables for the numbers, each figure as its own SVG file referenced as
// `figures/<name>.svg` (export the markdown and figures outputs side by side to view it).
import type {Block, ReportDocument} from './document.js';

export interface MarkdownReport {
  markdown: string;
  /** File name ("search.svg") -> SVG text. */
  figures: Record<string, string>;
}

function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(columns: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('left' | 'right')[]): string {
  const rule = columns.map((_, i) => (align?.[i] === 'right' ? '---:' : '---'));
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(columns.map(cell)), line(rule), ...rows.map((row) => line(row.map(cell)))].join('\n');
}

function renderBlock(block: Block, figures: Record<string, string>): string {
  switch (block.kind) {
    case 'heading':
      return `${'#'.repeat(block.level)} ${block.text}`;
    case 'paragraph':
      return block.text;
    case 'list':
      return block.items.map((item) => `- ${item}`).join('\n');
    case 'table':
      return table(block.columns, block.rows, block.align);
    case 'figure': {
      const file = `${block.name}.svg`;
      figures[file] = block.svg;
      return `![${block.caption.replace(/[[\]]/g, '')}](figures/${file})`;
    }
  }
}

export function renderMarkdown(doc: ReportDocument): MarkdownReport {
  const figures: Record<string, string> = {};
  const parts = [`# ${doc.title}`];
  if (doc.summary.length > 0) parts.push(table(['', 'value'], doc.summary.map((s) => [s.label, s.value])));
  for (const block of doc.blocks) parts.push(renderBlock(block, figures));
  return {markdown: `${parts.join('\n\n')}\n`, figures};
}
