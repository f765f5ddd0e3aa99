// One JSON object per line per event (run --json), for scripts and other tools.
import type {CliIo} from '../command.js';
import type {Renderer} from './renderer.js';

export function ndjsonRenderer(io: CliIo): Renderer {
  return {sink: (event) => io.stdout.write(`${JSON.stringify(event)}\n`), close: () => undefined};
}
