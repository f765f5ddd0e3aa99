// Accuracy vs relative power of every evaluated configuration, the Pareto front, the accuracy
// threshold and the chosen point: one self-contained SVG string.
import type {SearchResult} from '../../approx/search/index.js';
import {escapeXml, fmt, linearScale, niceTicks} from './primitives.js';

export interface PlotOptions {
  baselineAccuracy: number;
  maxAccuracyDrop: number;
  title?: string;
  /** The x axis label; relative power over the approximated layers by default. */
  powerLabel?: string;
  width?: number;
  height?: number;
}

export function searchPlotSvg(result: Pick<SearchResult, 'points' | 'pareto' | 'best' | 'method'>, options: PlotOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 420;
  const margin = {left: 70, right: 20, top: 40, bottom: 55};
  const threshold = options.baselineAccuracy - options.maxAccuracyDrop;
  const powers = result.points.map((p) => p.relativePower);
  const accuracies = [...result.points.map((p) => p.accuracy), threshold, options.baselineAccuracy];
  const xTicks = niceTicks(Math.min(...powers, 1), Math.max(...powers, 1));
  const yTicks = niceTicks(Math.min(...accuracies), Math.max(...accuracies));
  const x = linearScale([xTicks[0]!, xTicks.at(-1)!], [margin.left, width - margin.right]);
  const y = linearScale([yTicks[0]!, yTicks.at(-1)!], [height - margin.bottom, margin.top]);
  const title = options.title ?? `${result.method} search: ${result.points.length} configurations`;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
  ];
  for (const t of xTicks) {
    parts.push(`<line x1="${x(t)}" y1="${margin.top}" x2="${x(t)}" y2="${height - margin.bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${x(t)}" y="${height - margin.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of yTicks) {
    parts.push(`<line x1="${margin.left}" y1="${y(t)}" x2="${width - margin.right}" y2="${y(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${y(t) + 4}" text-anchor="end">${fmt(t, 4)}</text>`);
  }
  parts.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${width - margin.left - margin.right}" height="${height - margin.top - margin.bottom}" fill="none" stroke="#444"/>`,
    `<text x="${(margin.left + width - margin.right) / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(options.powerLabel ?? 'relative power of the approximated layers (1 = exact multipliers)')}</text>`,
    `<text transform="translate(16 ${(margin.top + height - margin.bottom) / 2}) rotate(-90)" text-anchor="middle">accuracy</text>`,
    `<line class="threshold" x1="${margin.left}" y1="${y(threshold)}" x2="${width - margin.right}" y2="${y(threshold)}" stroke="#c00" stroke-dasharray="5 4"/>`,
    `<text x="${width - margin.right - 4}" y="${y(threshold) - 5}" text-anchor="end" fill="#c00">threshold ${fmt(threshold, 4)} (accuracy −${fmt(100 * options.maxAccuracyDrop)} points)</text>`,
  );
  for (const p of result.points) {
    parts.push(`<circle class="point" cx="${x(p.relativePower).toFixed(1)}" cy="${y(p.accuracy).toFixed(1)}" r="3" fill="${p.feasible ? '#4a7ebb' : '#bbb'}" fill-opacity="0.7"/>`);
  }
  if (result.pareto.length > 0) {
    const path = result.pareto.map((p) => `${x(p.relativePower).toFixed(1)},${y(p.accuracy).toFixed(1)}`).join(' ');
    parts.push(`<polyline class="pareto" points="${path}" fill="none" stroke="#e08000" stroke-width="2"/>`);
  }
  if (result.best !== undefined) {
    const bx = x(result.best.relativePower);
    const by = y(result.best.accuracy);
    parts.push(
      `<circle class="best" cx="${bx.toFixed(1)}" cy="${by.toFixed(1)}" r="7" fill="none" stroke="#080" stroke-width="2"/>`,
      `<text x="${(bx + 10).toFixed(1)}" y="${(by + 18).toFixed(1)}" fill="#080">best: power ${fmt(result.best.relativePower)}, accuracy ${fmt(result.best.accuracy, 4)}</text>`,
    );
  }
  parts.push(
    `<g transform="translate(${margin.left + 8} ${margin.top + 12})">`,
    `<circle r="3" fill="#4a7ebb"/><text x="8" y="4">within threshold</text>`,
    `<circle cy="15" r="3" fill="#bbb"/><text x="8" y="19">over threshold</text>`,
    `<line x1="-4" y1="30" x2="4" y2="30" stroke="#e08000" stroke-width="2"/><text x="8" y="34">Pareto front</text>`,
    `</g>`,
    `</svg>`,
  );
  return parts.join('\n');
}
