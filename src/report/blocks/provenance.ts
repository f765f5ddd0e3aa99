// Where the numbers come from: the model (source, digest, size), each dataset and how its samples were
// chosen, the parameters the pipeline states, and the environment that computed the report.
import {integer, type Block} from '../document.js';
import type {ProvenanceSection, SubsetSection} from '../sections.js';

function subsetText(subset: SubsetSection | undefined): string {
  if (subset === undefined) return '';
  const seed = subset.seed !== undefined ? `, seed ${subset.seed}` : '';
  const offset = subset.offset ? `, offset ${subset.offset}` : '';
  const missing = subset.missingClasses !== undefined && subset.missingClasses.length > 0 ? `; ${subset.missingClasses.length} classes left out` : '';
  return ` (${subset.order}${seed}${offset}${missing})`;
}

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function provenanceBlocks(provenance: ProvenanceSection, environment: Readonly<Record<string, string>>): Block[] {
  const rows: string[][] = [];
  const model = provenance.model;
  if (model !== undefined) {
    const size = [model.parameters !== undefined ? `${integer(model.parameters)} parameters` : '', model.macs !== undefined ? `${integer(model.macs.total)} MACs per sample` : '']
      .filter(Boolean)
      .join(', ');
    rows.push(['model', [model.source ?? '?', model.sha256 !== undefined ? `sha256 ${model.sha256}` : '', size].filter(Boolean).join('; ')]);
  }
  for (const [name, data] of Object.entries(provenance.datasets ?? {})) {
    const of = data.sourceCount !== undefined ? ` of ${integer(data.sourceCount)}` : '';
    const classes = data.classes !== undefined ? `; ${data.classes.length} classes` : '';
    rows.push([`data: ${name}`, `${data.count !== undefined ? integer(data.count) : '?'}${of} samples${subsetText(data.subset)}${classes}${data.preprocessing !== undefined ? `; ${data.preprocessing}` : ''}`]);
  }
  for (const [name, value] of Object.entries(provenance.params ?? {})) rows.push([`param ${name}`, valueText(value)]);
  for (const [name, value] of Object.entries(environment)) rows.push([name, value]);
  if (rows.length === 0) return [];
  return [
    {kind: 'heading', level: 2, text: 'Provenance'},
    {kind: 'table', columns: ['', ''], rows},
    {
      kind: 'paragraph',
      text:
        "The run behind this report (its id, command and dates, the pipeline file and its digest, every step's parameters, " +
        'input digests and cache key) is written next to it by axx export <step>.html <path> --provenance.',
    },
  ];
}
