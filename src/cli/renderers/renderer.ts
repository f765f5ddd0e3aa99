// A renderer turns the engine's event stream into output; `run --renderer <name>` picks one by name.
import type {EventSink} from '../../engine/events.js';
import type {CliIo} from '../command.js';

export interface Renderer {
  sink: EventSink;
  /** Called once after run-end (flush, unmount). */
  close(): Promise<void> | void;
}

export type RendererFactory = (io: CliIo) => Renderer;
