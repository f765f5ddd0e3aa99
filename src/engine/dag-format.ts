// The step graph as text (an indented tree), Mermaid or Graphviz DOT. Step-level: a matrix step is
// one node labelled with its instance count.
import type {Pipeline, StepSpec} from './pipeline.js';

function stepDeps(pipeline: Pipeline): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  for (const step of pipeline.steps.values()) {
    const upstream = new Set<string>();
    for (const name of step.instances) for (const u of pipeline.instances.get(name)?.upstream ?? []) upstream.add(pipeline.instances.get(u)!.ref.id);
    deps.set(step.id, [...upstream]);
  }
  return deps;
}

function label(step: StepSpec): string {
  const fan = step.matrix.length > 0 ? ` ×${step.instances.length} (${step.matrix.map((m) => m.key).join(', ')})` : '';
  return `${step.id} [${step.kind.name}]${fan}`;
}

/** Each root, then its dependents indented below it; a step reached again is marked "(see above)". */
export function dagText(pipeline: Pipeline): string {
  const deps = stepDeps(pipeline);
  const dependents = new Map<string, string[]>();
  for (const [id, list] of deps) for (const d of list) dependents.set(d, [...(dependents.get(d) ?? []), id]);
  const lines: string[] = [];
  const printed = new Set<string>();
  const visit = (id: string, prefix: string, last: boolean, root: boolean): void => {
    const connector = root ? '' : last ? '└─ ' : '├─ ';
    const seen = printed.has(id);
    lines.push(`${prefix}${connector}${label(pipeline.steps.get(id)!)}${seen ? ' (see above)' : ''}`);
    if (seen) return;
    printed.add(id);
    const children = dependents.get(id) ?? [];
    const childPrefix = root ? '' : prefix + (last ? '   ' : '│  ');
    children.forEach((child, i) => visit(child, childPrefix, i === children.length - 1, false));
  };
  for (const [id, list] of deps) if (list.length === 0) visit(id, '', true, true);
  return lines.join('\n');
}

function nodeId(id: string): string {
  return id.replace(/[^A-Za-z0-9_]/g, '_');
}

export function dagMermaid(pipeline: Pipeline): string {
  const lines = ['flowchart TD'];
  for (const step of pipeline.steps.values()) lines.push(`  ${nodeId(step.id)}["${label(step).replace(/"/g, "'")}"]`);
  for (const [id, list] of stepDeps(pipeline)) for (const d of list) lines.push(`  ${nodeId(d)} --> ${nodeId(id)}`);
  return lines.join('\n');
}

export function dagDot(pipeline: Pipeline): string {
  const lines = [`digraph ${JSON.stringify(pipeline.name)} {`, '  rankdir=TB;', '  node [shape=box];'];
  for (const step of pipeline.steps.values()) lines.push(`  ${JSON.stringify(step.id)} [label=${JSON.stringify(label(step))}];`);
  for (const [id, list] of stepDeps(pipeline)) for (const d of list) lines.push(`  ${JSON.stringify(d)} -> ${JSON.stringify(id)};`);
  lines.push('}');
  return lines.join('\n');
}
