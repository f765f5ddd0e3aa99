// The report as renderer-neutral blocks. Numbers are formatted once, here, so the HTML and the
// Markdown renderings show exactly the same values.

export type Align = 'left' | 'right';

export type Block =
  | {kind: 'heading'; level: 2 | 3; text: string}
  | {kind: 'paragraph'; text: string}
  | {kind: 'list'; items: string[]}
  | {kind: 'table'; columns: string[]; align?: Align[]; rows: string[][]}
  /** `name` is a file-name stem (the Markdown rendering writes `figures/<name>.svg`). */
  | {kind: 'figure'; name: string; caption: string; svg: string};

export interface ReportDocument {
  title: string;
  /** Headline numbers shown first (label -> formatted value). */
  summary: {label: string; value: string}[];
  blocks: Block[];
}

export function percent(fraction: number, digits = 2): string {
  return `${(100 * fraction).toFixed(digits)}%`;
}

/** A signed difference in percentage points ("+0.12 pt", "−1.50 pt"). */
export function points(fraction: number, digits = 2): string {
  const value = 100 * fraction;
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return `${(0).toFixed(digits)} pt`;
  return `${value > 0 ? '+' : '−'}${text} pt`;
}

/** Up to `digits` significant digits, no exponent for the magnitudes reports show. */
export function decimal(value: number, digits = 4): string {
  return Number(value.toPrecision(digits)).toString();
}

/** Thousands grouped with thin spaces: 1 234 567. */
export function integer(value: number): string {
  return Math.round(value)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009');
}
