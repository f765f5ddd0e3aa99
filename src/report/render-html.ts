// One self-contained HTML page: inline CSS, inline SVG, no scripts, fonts or network, so it opens
// offline from anywhere (a CAS path, an e-mail attachment). Deterministic: no timestamps.
import type {Block, ReportDocument} from './document.js';

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .3em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
.summary { display: flex; flex-wrap: wrap; gap: .8em; margin: 1em 0 1.5em; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .6em 1em; min-width: 10em; background: #fafafa; }
.card .label { font-size: .8em; color: #666; }
.card .value { font-size: 1.3em; font-weight: 600; }
table { border-collapse: collapse; margin: .8em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; }
th { background: #f3f3f3; }
td.right, th.right { text-align: right; }
.table-wrap, figure { overflow-x: auto; }
figure { margin: 1em 0; }
figcaption { color: #555; font-size: .9em; }
`.trim();

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function renderBlock(block: Block): string {
  switch (block.kind) {
    case 'heading':
      return `<h${block.level}>${escapeHtml(block.text)}</h${block.level}>`;
    case 'paragraph':
      return `<p>${escapeHtml(block.text)}</p>`;
    case 'list':
      return `<ul>\n${block.items.map((item) => `<li>${escapeHtml(item)}</li>`).join('\n')}\n</ul>`;
    case 'table': {
      const cls = (index: number): string => (block.align?.[index] === 'right' ? ' class="right"' : '');
      const head = block.columns.map((c, i) => `<th${cls(i)}>${escapeHtml(c)}</th>`).join('');
      const rows = block.rows.map((row) => `<tr>${row.map((cell, i) => `<td${cls(i)}>${escapeHtml(cell)}</td>`).join('')}</tr>`);
      return `<div class="table-wrap"><table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table></div>`;
    }
    case 'figure':
      return `<figure id="figure-${escapeHtml(block.name)}">\n${block.svg}\n<figcaption>${escapeHtml(block.caption)}</figcaption>\n</figure>`;
  }
}

export function renderHtml(doc: ReportDocument): string {
  const cards = doc.summary.map((s) => `<div class="card"><div class="label">${escapeHtml(s.label)}</div><div class="value">${escapeHtml(s.value)}</div></div>`);
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(doc.title)}</title>`,
    `<style>\n${STYLE}\n</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(doc.title)}</h1>`,
    ...(cards.length > 0 ? [`<div class="summary">\n${cards.join('\n')}\n</div>`] : []),
    ...doc.blocks.map(renderBlock),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
