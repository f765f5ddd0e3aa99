// Binding an instance to its upstream results: the parameters the step runs with (absolute CAS
// paths, JSON values) and the key parts that stand for them (content digests).
import {cacheKey, KEY_SCHEMA_VERSION, keyEnvironment, type KeyParts} from './cache-key.js';
import {upstreamInstances, type Pipeline, type StepInstance} from './pipeline.js';
import {embedFor} from './spec/json-schema.js';
import {substitute, type Reference} from './spec/references.js';
import type {HostEnvironment, Json, KeyContext} from './step-kind.js';
import type {Cas} from './store/cas.js';
import type {OutputRecord, ResultRecord} from './store/results.js';
import type {Store} from './store/store.js';

export interface BoundInstance {
  params: Json;
  keyParts: KeyParts;
  key: string;
}

function outputOf(results: ReadonlyMap<string, ResultRecord>, instance: string, output: string): OutputRecord {
  const record = results.get(instance)?.outputs[output];
  if (record === undefined) throw new Error(`internal: no result for ${instance}.${output} while resolving`);
  return record;
}

/** What keyExtras gets: the store's file digests and the environment the step will run in. */
export function keyContext(store: Pick<Store, 'fileDigests'>, hostEnvironment: HostEnvironment): KeyContext {
  return {digest: (path) => store.fileDigests.digest(path), hostEnvironment};
}

/** Requires results for every upstream instance. keyExtras may throw a StepError (e.g. a missing input file). */
export async function bindInstance(pipeline: Pipeline, instance: StepInstance, results: ReadonlyMap<string, ResultRecord>, cas: Cas, key: KeyContext): Promise<BoundInstance> {
  const inputs: Record<string, string | string[]> = {};
  const runValue = (record: OutputRecord): Json => (record.type === 'value' ? record.value : cas.pathOf(record));
  const kind = instance.step.kind;
  const resolveStepOutput = (ref: Reference): Json | undefined => {
    if (ref.scope !== 'steps') return undefined;
    const {names, list} = upstreamInstances(pipeline, instance, ref.step);
    const records = names.map((name) => outputOf(results, name, ref.output));
    inputs[ref.text] = list ? records.map((r) => r.digest) : records[0]!.digest;
    return list ? records.map(runValue) : runValue(records[0]!);
  };
  const params = substitute(instance.with, resolveStepOutput, embedFor(kind.schema));
  const extras = kind.keyExtras === undefined ? null : await kind.keyExtras(params, key);
  const keyParts: KeyParts = {schema: KEY_SCHEMA_VERSION, kind: kind.name, kindVersion: kind.version, params: instance.with, inputs, extras, environment: keyEnvironment()};
  return {params, keyParts, key: cacheKey(keyParts)};
}
