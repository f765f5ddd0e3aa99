// A section input arrives either as a JSON value (a `value` output, or literal YAML) or as the path of
// a JSON file (a `file` output, or a file on disk): read it if needed, then check its shape.
import {readFileSync, statSync} from 'node:fs';
import {resolve} from 'node:path';
import {checkSection, SectionError, type SectionName, type SectionTypes} from './sections.js';

/** `where` names the input for messages ("with.search"); relative paths resolve against `baseDir`. */
export function loadSection<N extends SectionName>(name: N, input: unknown, where: string, baseDir = process.cwd()): SectionTypes[N] {
  if (Array.isArray(input)) {
    throw new SectionError(
      `${where}: got a list of ${input.length} values, expected one ${name} output`,
      'a reference to a matrix step gives all its instances; give this step the same matrix key to read one instance each',
    );
  }
  if (typeof input !== 'string') return checkSection(name, input, where);
  const file = resolve(baseDir, input);
  let text: string;
  try {
    if (statSync(file).isDirectory()) throw new SectionError(`${where}: ${file} is a directory, expected a JSON file`, `pass a JSON file or value (the producing step's ${name} output)`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof SectionError) throw error;
    throw new SectionError(`${where}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'check the path, or reference the producing step\'s output (${{ steps.<id>.outputs.<name> }})');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SectionError(`${where} (file ${file}): not JSON: ${(error as Error).message}`, `pass a JSON file or value (the producing step's ${name} output)`);
  }
  return checkSection(name, value, where, file);
}
