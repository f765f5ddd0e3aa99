// Small text formatters shared by every renderer, so the dashboard and plain lines agree.
import type {StepState} from './run-view.js';

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function progressBar(done: number, total: number, width: number): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(fraction * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

export function percent(done: number, total: number): string {
  return total > 0 ? `${Math.floor((100 * done) / total)}%` : '';
}

export function formatRate(rate: number | undefined, unit: string | undefined): string {
  if (rate === undefined || !Number.isFinite(rate)) return '';
  const per = unit ?? 'it';
  return rate >= 10 ? `${rate.toFixed(0)} ${per}/s` : rate >= 1 ? `${rate.toFixed(1)} ${per}/s` : `${(rate * 60).toFixed(1)} ${per}/min`;
}

const SPARKS = '▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[]): string {
  if (values.length === 0) return '';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo;
  return values.map((v) => SPARKS[span > 0 ? Math.round(((v - lo) / span) * (SPARKS.length - 1)) : 0]).join('');
}

export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return v.toFixed(a < 1 ? 4 : 3);
}

/** A measurement for reading, not for computing with: `digits` significant digits (0.0014636151706 → 0.001464). */
export function formatSignificant(v: number, digits = 4): string {
  return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : String(Number(v.toPrecision(digits)));
}

export const STATE_ICONS: Readonly<Record<StepState, string>> = {
  waiting: '·',
  queued: '○',
  running: '▶',
  retrying: '↻',
  ran: '✔',
  cached: '≡',
  failed: '✖',
  skipped: '-',
  interrupted: '■',
};
