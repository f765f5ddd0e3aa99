// A kind's tasks (StepKind.tasks) where no queue takes them: in this process, as the step asks for
// them; the step keeps `concurrency` of them in flight, one per granted cpu.
import type {StepKind, StepTask, StepTasks} from './step-kind.js';

/** The kind's task `name`; asking for one it does not declare is a bug in the kind. */
function taskOf(kind: StepKind, name: string): StepTask {
  const task = kind.tasks?.[name];
  if (task === undefined) throw new Error(`step kind ${kind.name} has no task "${name}" (it declares: ${Object.keys(kind.tasks ?? {}).join(', ') || 'none'})`);
  return task;
}

/** The kind's tasks in this process; they write their scratch files into the step's `scratchDir`. */
export function localTasks(kind: StepKind, resources: Record<string, number>, scratchDir: string): StepTasks {
  return {
    concurrency: Math.max(1, Math.floor(resources['cpu'] ?? 1)),
    run: async (name, payload, _key, signal) => taskOf(kind, name)(payload, signal, scratchDir),
  };
}
