// Renderers by name (run --renderer <name>; --json is short for ndjson). Add one with one entry.
import {ndjsonRenderer} from './ndjson.js';
import {plainRenderer} from './plain.js';
import type {RendererFactory} from './renderer.js';

export const renderers: Readonly<Record<string, RendererFactory>> = {
  plain: plainRenderer,
  ndjson: ndjsonRenderer,
};
