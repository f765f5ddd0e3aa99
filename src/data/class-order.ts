// The label order of a model's outputs, read from a class list file, so an image folder's labels
// match the model rather than the sorted folder names (which reorder labels silently whenever the
// model was trained with another order). Accepted forms, told apart by content:
// - text: one class folder name per line, line i → label i (timm's imagenet_synsets.txt);
// - JSON list of folder names, index → label;
// - JSON object folder → label index ({"n01440764": 0, …});
// - JSON object label index → [folder, description] (Keras' imagenet_class_index.json).
import {readFileSync} from 'node:fs';
import {DataError} from './data-error.js';

const HINT = 'give one class folder name per line, a JSON list of names, {"folder": index} or {"index": ["folder", "name"]}';

/** Class folder names in label order. */
export function readClassOrder(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DataError(`cannot read the class list: ${(error as Error).message}`, file, HINT);
  }
  const trimmed = text.trim();
  const names = trimmed.startsWith('[') || trimmed.startsWith('{') ? fromJson(trimmed, file) : trimmed.split(/\r?\n/).map((line) => line.trim());
  const blank = names.findIndex((name) => name === '');
  if (names.length === 0 || blank >= 0) throw new DataError(names.length === 0 ? 'the class list is empty' : `class ${blank} has no name`, file, HINT);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new DataError(`class "${name}" appears twice`, file, HINT);
    seen.add(name);
  }
  return names;
}

function fromJson(text: string, file: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DataError(`not valid JSON: ${(error as Error).message}`, file, HINT);
  }
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) return value as string[];
    throw new DataError('a JSON class list must hold strings only', file, HINT);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const names: string[] = [];
  for (const [key, entry] of entries) {
    // {"folder": index} or {"index": ["folder", …]}
    const [name, index] = typeof entry === 'number' ? [key, entry] : Array.isArray(entry) && typeof entry[0] === 'string' ? [entry[0], Number(key)] : [undefined, NaN];
    if (name === undefined || !Number.isInteger(index) || index < 0 || index >= entries.length || names[index] !== undefined) {
      throw new DataError(`entry "${key}" does not give a distinct label index below ${entries.length}`, file, HINT);
    }
    names[index] = name;
  }
  return names;
}
