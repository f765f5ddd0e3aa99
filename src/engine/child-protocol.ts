// Messages between the engine and a forked step process (advanced serialisation, so checkpoint
// files travel as Uint8Arrays).
import type {ExecutionUpdate} from './executor.js';
import type {HostEnvironment, Json, OutputValue} from './step-kind.js';

export type ToChild =
  | {type: 'run'; kind: string; params: Json; scratchDir: string; resources: Record<string, number>; hostEnvironment: HostEnvironment}
  | {type: 'abort'}
  | {type: 'checkpoint-loaded'; id: number; value: {state: Json; files: Record<string, Uint8Array>} | undefined}
  | {type: 'checkpoint-saved'; id: number}
  | {type: 'checkpoint-discarded'; id: number}
  | {type: 'memo-got'; id: number; value: Json | undefined}
  | {type: 'memo-stored'; id: number};

export type FromChild =
  | ExecutionUpdate
  | {type: 'checkpoint-save'; id: number; state: Json; files: Record<string, Uint8Array>}
  | {type: 'checkpoint-load'; id: number}
  | {type: 'checkpoint-discard'; id: number}
  | {type: 'memo-get'; id: number; key: string}
  | {type: 'memo-set'; id: number; key: string; value: Json}
  | {type: 'done'; outputs: Record<string, OutputValue>}
  | {type: 'error'; stepError: boolean; message: string; hint?: string; param?: string; command?: readonly string[]; stack?: string};
