// The command registry: one file per command under this directory, one entry here (help lists them in
// this order). A command's module loads only when it runs, so `axx --help` and light commands start fast.
import type {Command} from '../command.js';

export interface CommandEntry {
  name: string;
  /** One line for `axx --help`. */
  summary: string;
  load(): Promise<Command>;
}

export const commands: readonly CommandEntry[] = [
  {name: 'run', summary: 'run a pipeline (cached steps are reused)', load: async () => (await import('./run.js')).runCommand},
  {name: 'plan', summary: 'show which steps are cached and which would run, and why', load: async () => (await import('./plan.js')).planCommand},
  {name: 'validate', summary: 'check a pipeline file (schema, kinds, parameters, references, cycles) without running it', load: async () => (await import('./validate.js')).validateCommand},
  {name: 'dag', summary: 'print the step graph (text tree, --mermaid, --dot)', load: async () => (await import('./dag.js')).dagCommand},
  {name: 'runs', summary: 'list recent runs with their status and step counts', load: async () => (await import('./runs.js')).runsCommand},
  {name: 'watch', summary: 'attach to a running or finished run (default: the newest) and show its progress', load: async () => (await import('./watch.js')).watchCommand},
  {name: 'show', summary: 'show a run (its steps) or a step (params, outputs, metrics, log)', load: async () => (await import('./show.js')).showCommand},
  {name: 'compare', summary: 'compare runs side by side: parameters and final metrics of every step', load: async () => (await import('./compare.js')).compareCommand},
  {name: 'export', summary: "copy a run's output (step.output) or an artifact (digest) out of the cache", load: async () => (await import('./export.js')).exportCommand},
  {name: 'gc', summary: 'remove cache blobs no result needs (--keep-last N also drops results older runs used)', load: async () => (await import('./gc.js')).gcCommand},
  {name: 'cache', summary: 'cache maintenance: "cache verify" rehashes every blob and quarantines corrupt ones; "cache repair" replaces a damaged index', load: async () => (await import('./cache.js')).cacheCommand},
  {name: 'kinds', summary: 'list the step kinds a pipeline can use', load: async () => (await import('./kinds.js')).kindsCommand},
  {name: 'multipliers', summary: 'list the approximate multipliers (metrics, 45 nm power/area, rank)', load: async () => (await import('./multipliers.js')).multipliersCommand},
  {name: 'multiplier', summary: 'show one multiplier: metrics, rank, hardware and an error heatmap', load: async () => (await import('./multiplier.js')).multiplierCommand},
  {name: 'worker', summary: 'run steps for `axx run --redis` on this machine', load: async () => (await import('./worker.js')).workerCommand},
  {name: 'workers', summary: 'list the workers connected to a Redis queue and the jobs they run', load: async () => (await import('./workers.js')).workersCommand},
];
