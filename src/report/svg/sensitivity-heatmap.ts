// The sensitivity matrix as an SVG heatmap: layers as rows, multipliers as columns, white → red by
// the chosen measure, the value printed in each cell.
import {cellValue, type SensitivityMatrix} from '../../approx/search/index.js';
import {escapeXml, fmt} from './primitives.js';

/** `label` writes a cell's value (default: a drop in signed points, other measures as numbers); colour always grows with the value. */
export function sensitivityHeatmapSvg(matrix: SensitivityMatrix, options: {measure?: string; title?: string; label?: (value: number) => string} = {}): string {
  const measure = options.measure ?? 'drop';
  const values = new Map<string, number>();
  for (const cell of matrix.cells) values.set(`${cell.layer}\u0000${cell.multiplier}`, cellValue(cell, measure));
  const columns = matrix.multipliers.filter((m) => matrix.cells.some((cell) => cell.multiplier === m));
  const cellWidth = 90;
  const cellHeight = 22;
  const labelWidth = Math.max(80, 7 * Math.max(...matrix.layers.map((name) => name.length)));
  const top = 60;
  const width = labelWidth + cellWidth * columns.length + 20;
  const height = top + cellHeight * matrix.layers.length + 20;
  const max = Math.max(0, ...values.values());
  const title = options.title ?? `sensitivity: ${measure === 'drop' ? 'accuracy change, points (negative = worse)' : measure} per layer × multiplier`;
  // Drops print as accuracy changes in points, the one unit and sign of every axx output.
  // Drops read as accuracy changes in points (negative = worse), as everywhere else.
  const pointsLabel = (value: number): string => (measure === 'drop' ? fmt(-100 * value) : fmt(value));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="10" y="20" font-size="14">${escapeXml(title)}</text>`,
  ];
  columns.forEach((m, c) => parts.push(`<text x="${labelWidth + c * cellWidth + cellWidth / 2}" y="${top - 8}" text-anchor="middle">${escapeXml(m)}</text>`));
  matrix.layers.forEach((layer, r) => {
    const rowY = top + r * cellHeight;
    parts.push(`<text x="${labelWidth - 6}" y="${rowY + 15}" text-anchor="end">${escapeXml(layer)}</text>`);
    columns.forEach((m, c) => {
      const value = values.get(`${layer}\u0000${m}`);
      const cellX = labelWidth + c * cellWidth;
      if (value === undefined) {
        parts.push(`<rect x="${cellX}" y="${rowY}" width="${cellWidth}" height="${cellHeight}" fill="#f4f4f4" stroke="white"/>`);
        return;
      }
      const heat = max > 0 ? Math.max(0, value) / max : 0;
      const shade = Math.round(255 * (1 - 0.85 * heat));
      parts.push(
        `<rect class="cell" x="${cellX}" y="${rowY}" width="${cellWidth}" height="${cellHeight}" fill="rgb(255,${shade},${shade})" stroke="white"/>`,
        `<text x="${cellX + cellWidth / 2}" y="${rowY + 15}" text-anchor="middle">${escapeXml(options.label?.(value) ?? pointsLabel(value))}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}
