// The one event stream the engine emits; renderers (ink, plain lines, NDJSON) and the SQLite event
// log consume it. `ui/` imports only this file from the engine.

/** A step instance: the YAML step id plus matrix values, e.g. id "sens", instance "sens[layer=fc1]". */
export interface StepRef {
  id: string;
  instance: string;
  kind: string;
}

export interface Diagnostic {
  message: string;
  location?: {file: string; line: number; column: number; length?: number};
  hint?: string;
}

export type Failure =
  | {reason: 'schema-invalid'; diagnostics: Diagnostic[]}
  | {reason: 'cycle'; diagnostic: Diagnostic}
  | {reason: 'step-failed'; step: StepRef; message: string; hint?: string; diagnostic?: Diagnostic}
  | {reason: 'interrupted'; resumeCommand?: string}
  | {reason: 'internal'; step?: StepRef; error: string};

export type AxxEvent =
  | {type: 'run-start'; runId: string; pipeline: string; steps: StepRef[]; at: number}
  | {type: 'step-queued'; step: StepRef; at: number}
  | {type: 'step-start'; step: StepRef; attempt: number; at: number}
  | {type: 'step-progress'; step: StepRef; done: number; total?: number; unit?: string; at: number}
  | {type: 'step-log'; step: StepRef; stream: 'stdout' | 'stderr'; text: string; at: number}
  | {type: 'step-metric'; step: StepRef; name: string; value: number; x?: number; at: number}
  | {type: 'step-worker'; step: StepRef; worker: string; at: number}
  | {type: 'step-tasks'; step: StepRef; queued: number; running: number; done: number; at: number}
  | {type: 'step-retry'; step: StepRef; attempt: number; delayMs: number; message: string; at: number}
  | {type: 'step-end'; step: StepRef; outcome: 'ran' | 'cached' | 'failed' | 'skipped' | 'interrupted'; at: number}
  | {type: 'failure'; failure: Failure; at: number}
  | {type: 'run-end'; runId: string; reason: 'passed' | 'failed' | 'interrupted'; at: number};

export type EventSink = (event: AxxEvent) => void;
