// The end-of-run summary line: the run's headline numbers (each evaluated top-1 with its 95 % interval,
// the accelerator's power saving for the whole model and for the approximated layers) and the exact
// command that exports its report. Read from the run's stored results by output shape, so it knows no
// step by name.
import type {Json} from '../engine/step-kind.js';
import type {Store} from '../engine/store/store.js';
import {wilsonInterval} from '../util/statistics.js';
import type {CliIo} from './command.js';
import {axxCommand} from './invocation.js';

type JsonObject = {[key: string]: Json};

const isObject = (value: Json | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const numberIn = (value: JsonObject, key: string): number | undefined => (typeof value[key] === 'number' ? value[key] : undefined);

function accuracyText(instance: string, metrics: JsonObject): string | undefined {
  const top1 = numberIn(metrics, 'top1');
  const count = numberIn(metrics, 'count');
  if (top1 === undefined || count === undefined || count === 0) return undefined;
  const {low, high} = wilsonInterval(Math.round(top1 * count), count);
  return `${instance} ${(100 * top1).toFixed(2)}% (${(100 * low).toFixed(1)}–${(100 * high).toFixed(1)}, n=${count})`;
}

function powerText(summary: JsonObject): string | undefined {
  const layers = numberIn(summary, 'savingPercent');
  if (layers === undefined || numberIn(summary, 'relativePower') === undefined) return undefined;
  const whole = isObject(summary['wholeModel']) ? numberIn(summary['wholeModel'], 'savingPercent') : undefined;
  return whole === undefined ? `power saving ${layers.toFixed(1)}% (approximated layers)` : `power saving ${whole.toFixed(1)}% whole model (${layers.toFixed(1)}% approximated layers)`;
}

/**
 * Lines for the end of a passed run; `cacheArgs` are the --cache words a pasted command needs to find
 * this cache (project.ts cacheArgs).
 */
export function runSummaryLines(store: Store, runId: string, io: CliIo, cacheArgs: readonly string[]): string[] {
  const headline: string[] = [];
  const power: string[] = [];
  let report: string | undefined;
  for (const step of store.runs.steps(runId)) {
    const result = step.key === null ? undefined : store.results.get(step.key);
    if (result === undefined) continue;
    for (const [name, output] of Object.entries(result.outputs)) {
      if (output.type === 'value' && isObject(output.value)) {
        const accuracy = accuracyText(step.instance, output.value);
        if (accuracy !== undefined) headline.push(accuracy);
        const saving = powerText(output.value);
        if (saving !== undefined) power.push(saving);
      } else if (output.type === 'file' && name === 'html') {
        report = `${step.instance}.${name}`;
      }
    }
  }
  const lines: string[] = [];
  if (headline.length > 0 || power.length > 0) lines.push(`results: ${[...headline.map((h) => `top-1 ${h}`), ...power].join('; ')}`);
  if (report !== undefined) lines.push(`report: ${axxCommand(io, ['export', report, 'out/report.html', '--run', runId, '--provenance', ...cacheArgs])}`);
  return lines;
}
