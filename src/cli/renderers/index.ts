// Renderers by name (run --renderer <name>; --json is short for ndjson). Add one with one entry.
import type {CliIo} from '../command.js';
import {canUseInk, inkRenderer} from './ink.js';
import {ndjsonRenderer} from './ndjson.js';
import {plainRenderer} from './plain.js';
import type {RendererFactory} from './renderer.js';

export const renderers: Readonly<Record<string, RendererFactory>> = {
  plain: plainRenderer,
  ndjson: ndjsonRenderer,
  ink: inkRenderer,
};

/** Without --renderer/--json: the live dashboard on an interactive terminal, plain lines otherwise (CI, pipes). */
export function defaultRenderer(io: CliIo): string {
  return canUseInk(io) ? 'ink' : 'plain';
}
