// Printing located diagnostics and failures the same way in every command.
import {relative} from 'node:path';
import type {Diagnostic, Failure} from '../engine/events.js';

export function formatDiagnostic(d: Diagnostic, cwd: string): string {
  const where = d.location !== undefined ? `${relative(cwd, d.location.file) || d.location.file}:${d.location.line}:${d.location.column}: ` : '';
  const hint = d.hint !== undefined ? `\n  hint: ${d.hint.replace(/\n/g, '\n        ')}` : '';
  return `${where}error: ${d.message}${hint}`;
}

export function formatFailure(failure: Failure, cwd: string): string {
  switch (failure.reason) {
    case 'schema-invalid':
      return failure.diagnostics.map((d) => formatDiagnostic(d, cwd)).join('\n');
    case 'cycle':
      return formatDiagnostic(failure.diagnostic, cwd);
    case 'step-failed': {
      const located = failure.diagnostic?.location !== undefined ? `${relative(cwd, failure.diagnostic.location.file)}:${failure.diagnostic.location.line}:${failure.diagnostic.location.column}: ` : '';
      return `${located}step ${failure.step.instance} failed: ${failure.message}${failure.hint !== undefined ? `\n  hint: ${failure.hint}` : ''}`;
    }
    case 'interrupted':
      return `interrupted${failure.resumeCommand !== undefined ? `; resume with:\n  ${failure.resumeCommand}` : ''}`;
    case 'internal':
      return `internal error${failure.step !== undefined ? ` in step ${failure.step.instance}` : ''}: ${failure.error}`;
    default:
      return unreachable(failure);
  }
}

export function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
