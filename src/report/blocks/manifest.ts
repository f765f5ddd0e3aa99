// The approximated layers as the `approximate` step rewrote them: op, multiplier, emulation rank and
// path, MACs and their share of the network.
import {decimal, integer, percent, type Block} from '../document.js';
import type {ManifestSection} from '../sections.js';

export function manifestBlocks(manifest: ManifestSection): Block[] {
  const total = manifest.macs?.total;
  const blocks: Block[] = [{kind: 'heading', level: 2, text: 'Approximated layers'}];
  if (manifest.macs !== undefined) {
    blocks.push({
      kind: 'paragraph',
      text: `${manifest.layers.length} layers approximated: ${integer(manifest.macs.approximated)} of ${integer(manifest.macs.total)} MACs per sample (${percent(manifest.macs.approximated / (manifest.macs.total || 1), 1)}).`,
    });
  }
  const showBound = manifest.layers.some((l) => l.errorBound !== undefined);
  blocks.push({
    kind: 'table',
    columns: ['layer', 'op', 'multiplier', 'rank', 'path', 'MACs', ...(total !== undefined ? ['MAC share'] : []), ...(showBound ? ['error bound'] : [])],
    align: ['left', 'left', 'left', 'right', 'left', 'right', 'right', 'right'],
    rows: manifest.layers.map((l) => [
      l.node,
      l.op,
      typeof l.multiplier === 'string' ? l.multiplier : l.multiplier.name,
      String(l.rank),
      l.path,
      l.macs === null ? 'unknown' : integer(l.macs),
      ...(total !== undefined ? [l.macs === null || total === 0 ? '–' : percent(l.macs / total, 1)] : []),
      ...(showBound ? [l.errorBound === undefined ? '–' : decimal(l.errorBound, 3)] : []),
    ]),
  });
  return blocks;
}
