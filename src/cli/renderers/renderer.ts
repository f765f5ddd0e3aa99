// A renderer turns the engine's event stream into output; `run --renderer <name>` picks one by name.
import type {EventSink} from '../../engine/events.js';
import type {CliIo} from '../command.js';

export interface Renderer {
  sink: EventSink;
  /** Called once after run-end (flush, unmount). */
  close(): Promise<void> | void;
}

export interface RunControls {
  /** Ask the run to stop cleanly, as SIGINT would (an interactive renderer that owns the keyboard calls it on Ctrl-C). */
  interrupt(): void;
  /** The viewer quit (q) while the run goes on; without it an interactive renderer falls back to plain lines. */
  detach?(): void;
}

export type RendererFactory = (io: CliIo, controls: RunControls) => Renderer;
