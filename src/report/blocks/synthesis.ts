// The accelerator: cost model, relative power and savings (the whole model's first, the approximated
// layers' beside it), energy and array area when the model provides them, per-layer power, and each
// multiplier's figures (tabulated next to synthesised).
import {wholeModelPower, type WholeModelPower} from '../../hw/whole-model-power.js';
import {decimal, integer, percent, type Block} from '../document.js';
import type {ManifestSection, MultiplierFigures, SynthesisSection} from '../sections.js';

/** The synthesis summary's whole-model figure, else derived from the manifest's MAC total. */
export function wholeModelOf(summary: SynthesisSection, manifest?: ManifestSection): WholeModelPower | undefined {
  if (summary.wholeModel !== undefined) return summary.wholeModel;
  return manifest?.macs === undefined ? undefined : wholeModelPower(summary.layers, manifest.macs.total);
}

function figures(f: MultiplierFigures | undefined): string {
  if (f === undefined) return '–';
  const power = f.powerMw === null ? '? mW' : `${decimal(f.powerMw, 3)} mW`;
  const area = f.areaUm2 === null ? '? µm²' : `${decimal(f.areaUm2, 4)} µm²`;
  const relative = f.relativePower === undefined || f.relativePower === null ? '' : ` (×${decimal(f.relativePower, 3)})`;
  return `${power}${relative}, ${area}${f.technology !== undefined ? ` [${f.technology}]` : ''}`;
}

export function synthesisBlocks(summary: SynthesisSection, manifest?: ManifestSection): Block[] {
  const whole = wholeModelOf(summary, manifest);
  const rows: string[][] = [['cost model', `${summary.costModel.name}${summary.costModel.figures !== undefined ? ` (${summary.costModel.figures} figures)` : ''}`]];
  if (whole !== undefined) {
    rows.push(
      ['power saving, whole model', `${whole.savingPercent.toFixed(1)}% (relative power ${decimal(whole.relativePower)}; layers left exact at exact power)`],
      ['MACs per inference, whole model', `${integer(whole.totalMacs)} (${percent(whole.approximatedMacs / whole.totalMacs, 1)} approximated)`],
    );
  }
  rows.push(
    ['power saving, approximated layers only', `${summary.savingPercent.toFixed(1)}% (relative power ${decimal(summary.relativePower)}, exact = 1)`],
    ['MACs per inference, approximated layers', integer(summary.totalMacs)],
  );
  if (summary.energy !== undefined) {
    const e = summary.energy;
    rows.push(['energy per inference', `${decimal(e.totalUj)} µJ (multiply ${decimal(e.multiplyUj)}, accumulate ${decimal(e.accumulateUj)}; exact ${decimal(e.exactUj)} µJ)`]);
  }
  if (summary.array !== undefined) {
    const a = summary.array;
    rows.push(['PE array', `${a.rows}×${a.cols}, ${integer(a.arrayAreaUm2)} µm² vs exact ${integer(a.exactArrayAreaUm2)} µm² (${decimal(a.areaSavingPercent, 3)}% smaller, ${a.technology})`]);
  }
  if (summary.tools !== undefined) rows.push(['tools', `yosys ${summary.tools.yosys ?? 'not installed'}, sta ${summary.tools.sta ?? 'not installed'}`]);
  const blocks: Block[] = [
    {kind: 'heading', level: 2, text: 'Accelerator'},
    {kind: 'table', columns: ['', 'value'], rows},
    {kind: 'heading', level: 3, text: 'Power per layer'},
    {
      kind: 'table',
      columns: ['layer', 'multiplier', 'MACs', 'MAC share', 'relative power'],
      align: ['left', 'left', 'right', 'right', 'right'],
      rows: summary.layers.map((l) => [l.layer, l.multiplier, integer(l.macs), l.macShare === undefined ? '–' : percent(l.macShare, 1), decimal(l.relativePower)]),
    },
  ];
  if (summary.multipliers !== undefined && summary.multipliers.length > 0) {
    blocks.push(
      {kind: 'heading', level: 3, text: 'Multipliers'},
      {kind: 'table', columns: ['multiplier', 'tabulated', 'synthesised'], rows: summary.multipliers.map((m) => [m.name, figures(m.tabulated), figures(m.synthesised)])},
    );
  }
  if (summary.tools !== undefined && summary.tools.notes.length > 0) blocks.push({kind: 'list', items: summary.tools.notes});
  return blocks;
}
