// A line chart of one or more series (finetune loss/accuracy curves): axes with round ticks, axis
// labels, a legend, one polyline plus point markers per series. Pure and deterministic: the same
// series give the same SVG string. Scales and number formatting are the search plot's (primitives.ts).
import {escapeXml, fmt, linearScale, niceTicks} from './primitives.js';

export interface LineSeries {
  name: string;
  points: readonly {x: number; y: number}[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

/** Colour-blind-safe (Okabe–Ito) colours, cycled by series index. */
const COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000'];

/** Markers are drawn only while a series is sparse enough for them to stay readable. */
const MAX_MARKED_POINTS = 60;

export function lineChartSvg(series: readonly LineSeries[], options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const margin = {left: 70, right: 20, top: 40, bottom: 50};
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const xTicks = all.length > 0 ? niceTicks(Math.min(...xs), Math.max(...xs)) : [0, 1];
  const yTicks = all.length > 0 ? niceTicks(Math.min(...ys), Math.max(...ys)) : [0, 1];
  // A single distinct value gives one tick; widen the domain around it so the scale stays finite.
  const xDomain: [number, number] = xTicks.length > 1 ? [xTicks[0]!, xTicks.at(-1)!] : [xTicks[0]! - 1, xTicks[0]! + 1];
  const yDomain: [number, number] = yTicks.length > 1 ? [yTicks[0]!, yTicks.at(-1)!] : [yTicks[0]! - 1, yTicks[0]! + 1];
  const x = linearScale(xDomain, [margin.left, width - margin.right]);
  const y = linearScale(yDomain, [height - margin.bottom, margin.top]);
  const at = (value: number): string => value.toFixed(1);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
  ];
  for (const t of xTicks) {
    parts.push(`<line x1="${at(x(t))}" y1="${margin.top}" x2="${at(x(t))}" y2="${height - margin.bottom}" stroke="#eee"/>`);
    parts.push(`<text class="x-tick" x="${at(x(t))}" y="${height - margin.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of yTicks) {
    parts.push(`<line x1="${margin.left}" y1="${at(y(t))}" x2="${width - margin.right}" y2="${at(y(t))}" stroke="#eee"/>`);
    parts.push(`<text class="y-tick" x="${margin.left - 6}" y="${at(y(t) + 4)}" text-anchor="end">${fmt(t, 4)}</text>`);
  }
  parts.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${width - margin.left - margin.right}" height="${height - margin.top - margin.bottom}" fill="none" stroke="#444"/>`,
    `<text x="${(margin.left + width - margin.right) / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(16 ${(margin.top + height - margin.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  series.forEach((s, index) => {
    const colour = COLOURS[index % COLOURS.length]!;
    const points = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    parts.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
    if (points.length > 1) {
      parts.push(`<polyline points="${points.map((p) => `${at(x(p.x))},${at(y(p.y))}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
    }
    if (points.length <= MAX_MARKED_POINTS) {
      for (const p of points) parts.push(`<circle class="point" cx="${at(x(p.x))}" cy="${at(y(p.y))}" r="2.5" fill="${colour}"/>`);
    }
    parts.push('</g>');
  });
  parts.push(
    `<g class="legend" transform="translate(${width - margin.right - 150} ${margin.top + 10})">`,
    // Keeps the legend readable where a curve passes under it.
    `<rect x="-6" y="-9" width="146" height="${series.length * 15 + 4}" fill="white" fill-opacity="0.85"/>`,
  );
  series.forEach((s, index) => {
    const colour = COLOURS[index % COLOURS.length]!;
    parts.push(`<line x1="0" y1="${index * 15}" x2="16" y2="${index * 15}" stroke="${colour}" stroke-width="2"/><text x="22" y="${index * 15 + 4}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</g>', '</svg>');
  return parts.join('\n');
}
