// The layering the code relies on, checked on the sources: the libraries know nothing of pipelines (not
// even a type from engine/), and the engine knows no step, library or renderer. A violating import makes
// this fail with the file and the import.
import {readdir, readFile} from 'node:fs/promises';
import {dirname, join, relative, resolve, sep} from 'node:path';
import {describe, expect, it} from 'vitest';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');
const LIBRARIES = ['onnx', 'approx', 'train', 'hw', 'data', 'report'];

/** Every relative module specifier of a file: static imports and re-exports (type-only included) and dynamic import(). */
export function importedModules(source: string): string[] {
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  return [...source.matchAll(pattern)].map((match) => match[1]!);
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {withFileTypes: true, recursive: true});
  return entries
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** `from → to` for each import of a file under `fromFolder` that lands in one of `forbidden` (folders of src/). */
async function violations(fromFolder: string, forbidden: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const file of await sourceFiles(join(SRC, fromFolder))) {
    for (const specifier of importedModules(await readFile(file, 'utf8'))) {
      const target = relative(SRC, resolve(dirname(file), specifier));
      const top = target.split(sep)[0]!;
      if (forbidden.includes(top)) found.push(`src/${relative(SRC, file)} → ${specifier}`);
    }
  }
  return found;
}

describe('import rules', () => {
  it('finds static, type-only, re-exported and dynamic imports', () => {
    const source = [
      "import type {Json} from '../engine/step-kind.js';",
      "export {x} from './x.js';",
      "const m = await import('../engine/plan.js');",
      "import './side-effect.js';",
      "import {y} from 'node:fs';",
    ].join('\n');
    expect(importedModules(source)).toEqual(['../engine/step-kind.js', './x.js', '../engine/plan.js', './side-effect.js']);
  });

  for (const library of LIBRARIES) {
    it(`src/${library} imports nothing from engine/, steps/, cli/ or ui/`, async () => {
      expect(await violations(library, ['engine', 'steps', 'cli', 'ui'])).toEqual([]);
    });
  }

  it('a step kind imports no other step kind (what steps share lives in src/steps/shared)', async () => {
    const found: string[] = [];
    for (const file of await sourceFiles(join(SRC, 'steps'))) {
      if (dirname(file) !== join(SRC, 'steps') || file.endsWith('index.ts') || /\.test\.tsx?$/.test(file)) continue;
      for (const specifier of importedModules(await readFile(file, 'utf8'))) {
        if (/^\.\/(?!shared\/)/.test(specifier)) found.push(`src/${relative(SRC, file)} → ${specifier}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('src/engine imports no step, library, renderer or CLI', async () => {
    expect(await violations('engine', ['steps', 'cli', 'ui', ...LIBRARIES, 'models'])).toEqual([]);
  });
});

describe('side effects stay in cli/', () => {
  it('nothing outside src/cli ends the process', async () => {
    const found: string[] = [];
    for (const file of await sourceFiles(SRC)) {
      if (file.startsWith(join(SRC, 'cli') + sep) || /\.test\.tsx?$/.test(file)) continue;
      if (/\bprocess\.(exit|reallyExit|abort)\s*\(/.test(await readFile(file, 'utf8'))) found.push(`src/${relative(SRC, file)}`);
    }
    expect(found).toEqual([]);
  });
});
