// A validator per JSON Schema (the pipeline file's and each kind's `with:`): precompiled by the build where
// it could, else compiled by ajv on first use and kept. Loading ajv and compiling a dozen schemas took more
// than half of `axx plan`'s start-up; the build's standalone code (scripts/compile-validators.mjs writes
// GENERATED_VALIDATORS next to this module in dist/) loads in a few milliseconds. A precompiled validator is
// found by a digest of its schema's JSON text, so a schema edited since the build is compiled afresh and
// never checked by stale code; run from the sources (tsx) there is no such file and ajv compiles them all.
import {existsSync, readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import type {Ajv2020} from 'ajv/dist/2020.js';
import {sha256Hex} from '../canonical-json.js';
import {createAjv, type ValidateFunction} from './json-schema.js';

type Schema = Record<string, unknown>;

export const GENERATED_VALIDATORS = 'validators.generated.cjs';

const require = createRequire(import.meta.url);
let precompiled: Readonly<Record<string, ValidateFunction>> | undefined;
let ajv: Ajv2020 | undefined;
const validators = new WeakMap<Schema, ValidateFunction>();
let pipeline: Schema | undefined;

/** The schema of a pipeline file (schemas/pipeline.schema.json), read once. */
export function pipelineSchema(): Schema {
  pipeline ??= JSON.parse(readFileSync(new URL('../../../schemas/pipeline.schema.json', import.meta.url), 'utf8')) as Schema;
  return pipeline;
}

/** An export name for a schema: a digest of its JSON text, key order included (it orders ajv's errors). */
function exportName(schema: Schema): string {
  return `v${sha256Hex(JSON.stringify(schema)).slice(0, 32)}`;
}

function loadPrecompiled(): Readonly<Record<string, ValidateFunction>> {
  const file = new URL(GENERATED_VALIDATORS, import.meta.url);
  return existsSync(file) ? (require(fileURLToPath(file)) as Record<string, ValidateFunction>) : {};
}

export function validatorFor(schema: Schema): ValidateFunction {
  let validate = validators.get(schema);
  if (validate === undefined) {
    precompiled ??= loadPrecompiled();
    validate = precompiled[exportName(schema)] ?? (ajv ??= createAjv()).compile(schema);
    validators.set(schema, validate);
  }
  return validate;
}

/** ajv's standalone code (a CommonJS module) validating each schema, as validatorFor finds them. */
export function standaloneValidators(schemas: readonly Schema[]): string {
  const generator = createAjv({source: true});
  const names = new Map<string, string>();
  for (const schema of schemas) {
    const name = exportName(schema);
    if (names.has(name)) continue;
    generator.addSchema(schema, name);
    names.set(name, name);
  }
  const standaloneCode = (require('ajv/dist/standalone') as typeof import('ajv/dist/standalone/index.js')).default;
  return standaloneCode(generator, Object.fromEntries(names));
}
