// Plain lines for CI logs and pipes: one line per step start/end, step logs prefixed with the
// instance, metrics rounded and throttled like progress, failures with location and hint, a summary
// at the end. NDJSON (--json) carries every value unrounded.
import type {AxxEvent} from '../../engine/events.js';
import {writeLine, type CliIo} from '../command.js';
import {formatRate, formatSignificant, percent} from '../../ui/format.js';
import {formatFailure, unreachable} from '../diagnostics.js';
import type {Renderer} from './renderer.js';

/** Progress lines are for humans reading a CI log: one per 10 % step, and at least every 10 s while a step reports. */
const PROGRESS_PERCENT_STEP = 10;
const PROGRESS_INTERVAL_MS = 10_000;
/** A metric gets a line at most this often per step; the newest value not yet printed follows at the step's end. */
const METRIC_INTERVAL_MS = 10_000;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}

export function plainRenderer(io: CliIo): Renderer {
  const started = new Map<string, number>();
  const lastProgress = new Map<string, {bucket: number; at: number}>();
  const progressOrigin = new Map<string, {at: number; done: number}>();
  const counts = {ran: 0, cached: 0, failed: 0, skipped: 0, interrupted: 0};
  /** Per step instance and metric name: when its last line was printed, and a newer value held back since. */
  const metrics = new Map<string, Map<string, {printedAt: number; pending?: Extract<AxxEvent, {type: 'step-metric'}>}>>();
  const metricLine = (event: Extract<AxxEvent, {type: 'step-metric'}>): void =>
    writeLine(io.stdout, `  ${event.step.instance} | ${event.name} = ${formatSignificant(event.value)}${event.x !== undefined ? ` @ ${event.x}` : ''}`);
  let runStart = 0;
  const sink = (event: AxxEvent): void => {
    switch (event.type) {
      case 'run-start':
        runStart = event.at;
        writeLine(io.stdout, `run ${event.runId}: ${event.pipeline}, ${event.steps.length} step${event.steps.length === 1 ? '' : 's'}`);
        return;
      case 'step-queued':
        return;
      case 'step-progress': {
        const instance = event.step.instance;
        const origin = progressOrigin.get(instance) ?? {at: event.at, done: event.done};
        progressOrigin.set(instance, origin);
        const last = lastProgress.get(instance) ?? {bucket: 0, at: started.get(instance) ?? event.at};
        const bucket = event.total ? Math.floor(((event.done / event.total) * 100) / PROGRESS_PERCENT_STEP) : last.bucket;
        if (bucket > last.bucket || event.at - last.at >= PROGRESS_INTERVAL_MS) {
          lastProgress.set(instance, {bucket, at: event.at});
          const of = event.total ? `/${event.total}` : '';
          const unit = event.unit !== undefined ? ` ${event.unit}` : '';
          const share = event.total ? ` ${percent(event.done, event.total)}` : '';
          const rate = event.at > origin.at ? formatRate(((event.done - origin.done) * 1000) / (event.at - origin.at), event.unit) : '';
          writeLine(io.stdout, `… ${instance} ${event.done}${of}${unit}${share}${rate !== '' ? `, ${rate}` : ''}`);
        }
        return;
      }
      case 'step-start':
        started.set(event.step.instance, event.at);
        // A new attempt measures its own rate and starts its own progress lines.
        progressOrigin.delete(event.step.instance);
        lastProgress.delete(event.step.instance);
        writeLine(io.stdout, `▶ ${event.step.instance}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`);
        return;
      case 'step-log':
        writeLine(event.stream === 'stderr' ? io.stderr : io.stdout, `  ${event.step.instance} | ${event.text}`);
        return;
      case 'step-metric': {
        const forStep = metrics.get(event.step.instance) ?? new Map();
        metrics.set(event.step.instance, forStep);
        const last = forStep.get(event.name);
        if (last !== undefined && event.at - last.printedAt < METRIC_INTERVAL_MS) {
          last.pending = event;
          return;
        }
        forStep.set(event.name, {printedAt: event.at});
        metricLine(event);
        return;
      }
      case 'step-worker': // the step's log says where it runs
      case 'step-tasks': // counts change per task: the dashboard's, too many for lines
        return;
      case 'step-retry':
        writeLine(io.stderr, `↻ ${event.step.instance}: ${event.message.split('\n')[0]}; retry ${event.attempt} in ${seconds(event.delayMs)}`);
        return;
      case 'step-end': {
        for (const {pending} of metrics.get(event.step.instance)?.values() ?? []) if (pending !== undefined) metricLine(pending);
        metrics.delete(event.step.instance);
        counts[event.outcome]++;
        const t0 = started.get(event.step.instance);
        const took = t0 !== undefined ? ` (${seconds(event.at - t0)})` : '';
        const mark = {ran: '✓', cached: '=', failed: '✗', skipped: '-', interrupted: '!'}[event.outcome];
        writeLine(io.stdout, `${mark} ${event.step.instance} ${event.outcome}${event.outcome === 'ran' || event.outcome === 'failed' ? took : ''}`);
        return;
      }
      case 'failure':
        writeLine(io.stderr, formatFailure(event.failure, io.cwd));
        return;
      case 'run-end':
        writeLine(
          io.stdout,
          `run ${event.runId} ${event.reason} in ${seconds(event.at - runStart)}: ${counts.ran} ran, ${counts.cached} cached${counts.failed ? `, ${counts.failed} failed` : ''}${counts.skipped ? `, ${counts.skipped} skipped` : ''}${counts.interrupted ? `, ${counts.interrupted} interrupted` : ''}`,
        );
        return;
      default:
        unreachable(event);
    }
  };
  return {sink, close: () => undefined};
}
