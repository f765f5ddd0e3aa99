// What a run looks like to a viewer: a pure reduction of the engine's event stream. Every renderer
// (ink dashboard, plain lines, `axx watch`) draws from this state and never from events directly.
import type {AxxEvent, Failure, StepRef} from '../engine/events.js';

export type StepState = 'waiting' | 'queued' | 'running' | 'retrying' | 'ran' | 'cached' | 'failed' | 'skipped' | 'interrupted';

export interface StepView {
  ref: StepRef;
  state: StepState;
  attempt: number;
  startedAt?: number;
  endedAt?: number;
  done?: number;
  total?: number;
  unit?: string;
  /** Progress units per second since the step's first progress report. */
  rate?: number;
  /** Time and count of the first progress report of the current attempt, the origin of `rate`. */
  progressOrigin?: {at: number; done: number};
  retries: number;
  /** The worker running this attempt, when it runs on a queue's worker. */
  worker?: string;
  /** The step's tasks (evaluations …) on a queue's workers: waiting, running, done. */
  tasks?: {queued: number; running: number; done: number};
}

export interface MetricView {
  name: string;
  last: number;
  min: number;
  max: number;
  /** Most recent values, oldest first, capped at SERIES_CAP (for sparklines). */
  series: number[];
}

export interface LogLine {
  instance: string;
  stream: 'stdout' | 'stderr';
  text: string;
  at: number;
}

export interface ErrorView {
  instance?: string;
  message: string;
  hint?: string;
  location?: string;
}

export interface RunView {
  runId?: string;
  pipeline?: string;
  startedAt?: number;
  endedAt?: number;
  outcome?: 'passed' | 'failed' | 'interrupted';
  /** Step instances in the order the engine announced them. */
  order: string[];
  steps: Readonly<Record<string, StepView>>;
  metrics: Readonly<Record<string, Readonly<Record<string, MetricView>>>>;
  log: readonly LogLine[];
  lastError?: ErrorView;
  resumeCommand?: string;
  /** Clock of the newest event seen; viewers use it for elapsed times when replaying a finished run. */
  lastEventAt: number;
}

export const SERIES_CAP = 60;
export const LOG_CAP = 500;

export function emptyRunView(): RunView {
  return {order: [], steps: {}, metrics: {}, log: [], lastEventAt: 0};
}

const FINISHED: ReadonlySet<StepState> = new Set(['ran', 'cached', 'failed', 'skipped', 'interrupted']);

export function isFinished(state: StepState): boolean {
  return FINISHED.has(state);
}

export function reduceRunView(view: RunView, event: AxxEvent): RunView {
  const next: RunView = {...view, lastEventAt: Math.max(view.lastEventAt, event.at)};
  switch (event.type) {
    case 'run-start': {
      const steps: Record<string, StepView> = {};
      for (const ref of event.steps) steps[ref.instance] = {ref, state: 'waiting', attempt: 0, retries: 0};
      return {
        ...next,
        runId: event.runId,
        pipeline: event.pipeline,
        startedAt: event.at,
        endedAt: undefined,
        outcome: undefined,
        order: event.steps.map((s) => s.instance),
        steps,
      };
    }
    case 'step-queued':
      return withStep(next, event.step, (s) => ({...s, state: 'queued'}));
    case 'step-start':
      return withStep(next, event.step, (s) => ({
        ...s,
        state: 'running',
        attempt: event.attempt,
        startedAt: s.startedAt ?? event.at,
        done: undefined,
        total: undefined,
        rate: undefined,
        progressOrigin: undefined,
        worker: undefined,
        tasks: undefined,
      }));
    case 'step-worker':
      return withStep(next, event.step, (s) => ({...s, worker: event.worker}));
    case 'step-tasks':
      return withStep(next, event.step, (s) => ({...s, tasks: {queued: event.queued, running: event.running, done: event.done}}));
    case 'step-progress':
      return withStep(next, event.step, (s) => progressed(s, event));
    case 'step-log': {
      const line: LogLine = {instance: event.step.instance, stream: event.stream, text: event.text, at: event.at};
      const log = view.log.length >= LOG_CAP ? [...view.log.slice(view.log.length - LOG_CAP + 1), line] : [...view.log, line];
      return {...next, log};
    }
    case 'step-metric': {
      const forStep = view.metrics[event.step.instance] ?? {};
      const metric = withValue(forStep[event.name], event.name, event.value);
      return {...next, metrics: {...view.metrics, [event.step.instance]: {...forStep, [event.name]: metric}}};
    }
    case 'step-retry':
      return withStep(next, event.step, (s) => ({...s, state: 'retrying', retries: s.retries + 1}));
    case 'step-end':
      return withStep(next, event.step, (s) => ({
        ...s,
        state: event.outcome,
        endedAt: event.at,
        done: event.outcome === 'ran' && s.total !== undefined ? s.total : s.done,
      }));
    case 'failure':
      return {...next, ...failureView(event.failure)};
    case 'run-end':
      return {...next, endedAt: event.at, outcome: event.reason};
  }
}

function withStep(view: RunView, ref: StepRef, update: (s: StepView) => StepView): RunView {
  const known = view.steps[ref.instance];
  const current: StepView = known ?? {ref, state: 'waiting', attempt: 0, retries: 0};
  const order = known ? view.order : [...view.order, ref.instance];
  return {...view, order, steps: {...view.steps, [ref.instance]: update(current)}};
}

function progressed(s: StepView, e: Extract<AxxEvent, {type: 'step-progress'}>): StepView {
  const origin = s.progressOrigin ?? {at: e.at, done: e.done};
  const seconds = (e.at - origin.at) / 1000;
  const rate = seconds > 0 ? (e.done - origin.done) / seconds : s.rate;
  return {...s, done: e.done, total: e.total, unit: e.unit ?? s.unit, progressOrigin: origin, rate};
}

function withValue(metric: MetricView | undefined, name: string, value: number): MetricView {
  if (!metric) return {name, last: value, min: value, max: value, series: [value]};
  const series = metric.series.length >= SERIES_CAP ? [...metric.series.slice(1), value] : [...metric.series, value];
  return {name, last: value, min: Math.min(metric.min, value), max: Math.max(metric.max, value), series};
}

function failureView(failure: Failure): Pick<RunView, 'lastError' | 'resumeCommand'> {
  switch (failure.reason) {
    case 'schema-invalid': {
      const first = failure.diagnostics[0];
      const more = failure.diagnostics.length > 1 ? ` (+${failure.diagnostics.length - 1} more)` : '';
      return {lastError: {message: (first?.message ?? 'invalid pipeline') + more, hint: first?.hint, location: locationOf(first)}};
    }
    case 'cycle':
      return {lastError: {message: failure.diagnostic.message, hint: failure.diagnostic.hint, location: locationOf(failure.diagnostic)}};
    case 'step-failed':
      return {
        lastError: {
          instance: failure.step.instance,
          message: failure.message,
          hint: failure.hint ?? failure.diagnostic?.hint,
          location: locationOf(failure.diagnostic),
        },
      };
    case 'interrupted':
      return {resumeCommand: failure.resumeCommand};
    case 'internal':
      return {lastError: {instance: failure.step?.instance, message: `internal error: ${failure.error}`}};
  }
}

function locationOf(d: {location?: {file: string; line: number; column: number}} | undefined): string | undefined {
  return d?.location ? `${d.location.file}:${d.location.line}:${d.location.column}` : undefined;
}

/** Seconds left for a running step, from its measured rate; undefined when unknown. */
export function etaSeconds(s: StepView): number | undefined {
  if (s.state !== 'running' || s.total === undefined || s.done === undefined || !s.rate || s.rate <= 0) return undefined;
  return Math.max(0, (s.total - s.done) / s.rate);
}

/** Matrix fan-outs: instances of one YAML step id, in announcement order. */
export interface StepGroup {
  id: string;
  instances: StepView[];
}

export function groupSteps(view: RunView): StepGroup[] {
  const groups = new Map<string, StepGroup>();
  for (const instance of view.order) {
    const step = view.steps[instance];
    if (!step) continue;
    const group = groups.get(step.ref.id) ?? {id: step.ref.id, instances: []};
    group.instances.push(step);
    groups.set(step.ref.id, group);
  }
  return [...groups.values()];
}

export interface RunCounts {
  total: number;
  ran: number;
  cached: number;
  failed: number;
  running: number;
}

export function countSteps(view: RunView): RunCounts {
  const counts: RunCounts = {total: 0, ran: 0, cached: 0, failed: 0, running: 0};
  for (const s of Object.values(view.steps)) {
    counts.total++;
    if (s.state === 'ran') counts.ran++;
    else if (s.state === 'cached') counts.cached++;
    else if (s.state === 'failed') counts.failed++;
    else if (s.state === 'running' || s.state === 'retrying') counts.running++;
  }
  return counts;
}
