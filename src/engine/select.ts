// Turning user-given step names (--only, --force) into instance sets: a step id means all its
// instances, an instance name ("sens[layer=fc1]") just that one.
import type {Diagnostic} from './events.js';
import {withDependencies} from './graph.js';
import type {Pipeline} from './pipeline.js';

export function instancesNamed(pipeline: Pipeline, names: readonly string[], option: string): {ok: true; value: Set<string>} | {ok: false; error: Diagnostic[]} {
  const out = new Set<string>();
  const errors: Diagnostic[] = [];
  for (const name of names) {
    const step = pipeline.steps.get(name);
    if (step !== undefined) step.instances.forEach((i) => out.add(i));
    else if (pipeline.instances.has(name)) out.add(name);
    else errors.push({message: `${option} ${name}: no such step or instance in ${pipeline.file}`, hint: `steps: ${[...pipeline.steps.keys()].join(', ')}`});
  }
  return errors.length > 0 ? {ok: false, error: errors} : {ok: true, value: out};
}

/** The instances `--only` needs: the named ones and everything they depend on. */
export function withUpstream(pipeline: Pipeline, names: ReadonlySet<string>): Set<string> {
  return withDependencies(names, new Map([...pipeline.instances.values()].map((i) => [i.ref.instance, i.upstream])));
}
