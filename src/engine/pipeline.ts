// A validated, expanded pipeline: what the planner and scheduler work from. Keeps the YAML source
// so any later failure can still point at the user's text.
import type {StepRef} from './events.js';
import type {Json, OutputDecl, StepKind} from './step-kind.js';
import type {JsonPath, SourceLocation, YamlSource} from './spec/yaml-source.js';

export type ExecutorName = 'in-process' | 'child-process';

export interface StepSpec {
  id: string;
  kind: StepKind;
  /** Matrix keys in declaration order with their values; empty for an ordinary step. */
  matrix: {key: string; values: Json[]}[];
  needs: string[];
  retries: number;
  /** Seconds an attempt may run (the step's `timeout:`, else its kind's); undefined: no limit. */
  timeout?: number;
  resources: Record<string, number>;
  executor?: ExecutorName;
  outputs: Record<string, OutputDecl>;
  /** Instance names, in matrix order. */
  instances: string[];
}

export interface StepInstance {
  ref: StepRef;
  step: StepSpec;
  matrix: Record<string, Json>;
  /** `with:` after params/matrix substitution and schema defaults; step-output references still unresolved. */
  with: Json;
  /** Instances this one waits for (referenced outputs and `needs`), in pipeline order. */
  upstream: string[];
}

export interface Pipeline {
  file: string;
  name: string;
  params: Record<string, Json>;
  steps: Map<string, StepSpec>;
  /** All instances in a deterministic topological order. */
  instances: Map<string, StepInstance>;
  source: YamlSource;
}

/** The instance(s) of `producer` that `consumer` reads: the one with the same matrix values if the consumer fixes all the producer's keys, else all of them (a list). */
export function upstreamInstances(pipeline: Pipeline, consumer: StepInstance, producerId: string): {names: string[]; list: boolean} {
  const producer = pipeline.steps.get(producerId);
  if (producer === undefined) return {names: [], list: false};
  if (producer.matrix.length === 0) return {names: producer.instances, list: false};
  const fixed = producer.matrix.every((m) => m.key in consumer.matrix);
  if (!fixed) return {names: producer.instances, list: true};
  const name = instanceName(producer.id, Object.fromEntries(producer.matrix.map((m) => [m.key, consumer.matrix[m.key]!])));
  return {names: producer.instances.includes(name) ? [name] : [], list: false};
}

export function matrixValueText(value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function instanceName(id: string, matrix: Record<string, Json>): string {
  const entries = Object.entries(matrix);
  if (entries.length === 0) return id;
  return `${id}[${entries.map(([k, v]) => `${k}=${matrixValueText(v)}`).join(',')}]`;
}

/** Where a step (or a parameter below it, "with.model") is written. */
export function locateStep(pipeline: Pipeline, id: string, param?: string): SourceLocation {
  const segments = param === undefined ? [] : param.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const path: JsonPath = ['steps', id, ...segments];
  return pipeline.source.locate(path, {key: param === undefined});
}
