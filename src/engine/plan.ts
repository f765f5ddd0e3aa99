// `axx plan`: for each instance, whether its result is cached or it will run, and why — which key
// part changed since the last result of the same instance (Snakemake's `reason:`).
import {keyChanges} from './cache-key.js';
import type {StepRef} from './events.js';
import type {Pipeline} from './pipeline.js';
import {bindInstance, keyContext} from './resolve.js';
import {StepError, type HostEnvironment} from './step-kind.js';
import type {ResultRecord} from './store/results.js';
import type {Store} from './store/store.js';

export interface PlanEntry {
  step: StepRef;
  /** cached: result reused; run: will execute; blocked: waits for an upstream that will run (may still hit the cache then); error: cannot compute its key. */
  status: 'cached' | 'run' | 'blocked' | 'error';
  key?: string;
  reasons: string[];
}

export async function planPipeline(pipeline: Pipeline, store: Store, options: {hostEnvironment: HostEnvironment; force?: ReadonlySet<string>; select?: ReadonlySet<string>}): Promise<PlanEntry[]> {
  const results = new Map<string, ResultRecord>();
  const status = new Map<string, PlanEntry['status']>();
  const plan: PlanEntry[] = [];
  for (const instance of pipeline.instances.values()) {
    const name = instance.ref.instance;
    if (options.select !== undefined && !options.select.has(name)) continue;
    const waiting = instance.upstream.filter((u) => status.get(u) !== 'cached');
    if (waiting.length > 0) {
      status.set(name, 'blocked');
      plan.push({step: instance.ref, status: 'blocked', reasons: [`waits for ${waiting.join(', ')}`]});
      continue;
    }
    let bound;
    try {
      bound = await bindInstance(pipeline, instance, results, store.cas, keyContext(store, options.hostEnvironment));
    } catch (error) {
      if (!(error instanceof StepError)) throw error;
      status.set(name, 'error');
      plan.push({step: instance.ref, status: 'error', reasons: [error.message]});
      continue;
    }
    const hit = store.results.get(bound.key);
    const forced = options.force?.has(name) ?? false;
    if (hit !== undefined && !forced && (await store.results.usable(hit))) {
      results.set(name, hit);
      status.set(name, 'cached');
      plan.push({step: instance.ref, status: 'cached', key: bound.key, reasons: []});
      continue;
    }
    let reasons: string[];
    if (forced) reasons = ['forced (--force)'];
    else if (hit !== undefined) reasons = ['cached result has missing or corrupt artifacts'];
    else {
      const previous = previousResult(store, pipeline.file, name, instance.ref.kind);
      reasons = previous === undefined ? ['no previous result'] : keyChanges(previous.keyParts, bound.keyParts);
      if (reasons.length === 0) reasons = ['previous result was removed (gc)'];
    }
    status.set(name, 'run');
    plan.push({step: instance.ref, status: 'run', key: bound.key, reasons});
  }
  return plan;
}

/**
 * What to compare a new key with: the result this instance had in the latest run of the same
 * pipeline file, else the latest result of an instance of the same name and kind anywhere (results
 * are shared between pipelines, but "why" should speak of the user's own last run).
 */
function previousResult(store: Store, pipelineFile: string, instance: string, kind: string): ResultRecord | undefined {
  const key = store.runs.lastKey(pipelineFile, instance);
  const own = key !== undefined ? store.results.get(key) : undefined;
  if (own !== undefined) return own;
  const latest = store.results.latest(instance);
  return latest?.kind === kind ? latest : undefined;
}
