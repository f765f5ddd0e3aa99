// The provenance of one run, as `axx export --provenance` writes it next to an exported artifact: the run
// (id, command, status, dates), the pipeline file (and whether it changed since), every step's parameters,
// input digests, cache key and which run computed it, and the versions that can change results.
import {createHash} from 'node:crypto';
import {readFileSync, statSync} from 'node:fs';
import {arch, platform, release} from 'node:os';
import type {Json} from '../engine/step-kind.js';
import type {RunRecord} from '../engine/store/run-log.js';
import type {Store} from '../engine/store/store.js';

const iso = (at: number | null): string | null => (at === null ? null : new Date(at).toISOString());

function pipelineFile(run: RunRecord): Json {
  try {
    const bytes = readFileSync(run.pipeline);
    return {
      file: run.pipeline,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      // The store keeps the path, not the content: say when the file may differ from what the run read.
      modifiedSinceRun: statSync(run.pipeline).mtimeMs > run.startedAt,
    };
  } catch {
    return {file: run.pipeline, sha256: null, note: 'the pipeline file is no longer there'};
  }
}

export function runProvenance(store: Store, run: RunRecord, exported: {output: string; digest: string}): Json {
  const steps = store.runs.steps(run.id).map((step) => {
    const result = step.key === null ? undefined : store.results.get(step.key);
    return {
      instance: step.instance,
      kind: step.kind,
      kindVersion: result?.keyParts.kindVersion ?? null,
      state: step.state,
      key: step.key,
      params: result?.keyParts.params ?? null,
      inputs: result?.keyParts.inputs ?? null,
      computedByRun: result?.runId ?? null,
      computedAt: iso(result?.createdAt ?? null),
      environment: result?.keyParts.environment ?? null,
    };
  });
  return {
    format: 'axx-provenance',
    version: 1,
    exported: {...exported, at: new Date().toISOString()},
    run: {id: run.id, name: run.name, command: run.command, status: run.status, params: run.params, startedAt: iso(run.startedAt), endedAt: iso(run.endedAt), host: run.host},
    pipeline: pipelineFile(run),
    steps,
    exporter: {node: process.version, machine: `${platform()} ${release()} ${arch()}`},
  };
}
