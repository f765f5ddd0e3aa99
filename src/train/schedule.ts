// Learning-rate schedules as pure functions of the step, so a resumed run continues exactly.

export type ScheduleKind = 'constant' | 'cosine' | 'onecycle';

export interface Schedule {
  kind: ScheduleKind;
  /** Peak learning rate. */
  lr: number;
  totalSteps: number;
  /** Linear warm-up steps (from lr/25 for one-cycle, from ~0 otherwise). */
  warmupSteps: number;
  /** Final learning rate of the cosine decay. */
  minLr?: number;
}

/** Learning rate for update number `step` (0-based). */
export function learningRate(s: Schedule, step: number): number {
  if (s.kind === 'constant') return step < s.warmupSteps ? (s.lr * (step + 1)) / s.warmupSteps : s.lr;
  const start = s.kind === 'onecycle' ? s.lr / 25 : 0;
  const end = s.minLr ?? (s.kind === 'onecycle' ? s.lr / 1e4 : 0);
  if (step < s.warmupSteps) return start + ((s.lr - start) * (step + 1)) / s.warmupSteps;
  const decaySteps = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / decaySteps);
  return end + ((s.lr - end) * (1 + Math.cos(Math.PI * progress))) / 2;
}
