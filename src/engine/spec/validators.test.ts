import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {createAjv} from './json-schema.js';
import {pipelineSchema, standaloneValidators, validatorFor} from './validators.js';

const kindSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['model'],
  properties: {model: {type: 'string', 'x-axx-input': {type: 'file', format: 'onnx'}}, batch: {type: 'integer', minimum: 1, default: 64}, mode: {enum: ['a', 'b']}},
};

/** Loads the standalone module the build would write, as validatorFor requires it. */
function loadStandalone(schemas: Record<string, unknown>[]): Record<string, (value: unknown) => boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'axx-validators-'));
  try {
    const file = join(dir, 'validators.cjs');
    // The generated code requires ajv's runtime helpers; resolve them from this package.
    writeFileSync(file, standaloneValidators(schemas).replace(/require\("ajv\//g, `require(${JSON.stringify(createRequire(import.meta.url).resolve('ajv/package.json').replace(/package\.json$/, ''))}+"`));
    return createRequire(import.meta.url)(file) as Record<string, (value: unknown) => boolean>;
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

describe('precompiled validators', () => {
  it('report the same errors and apply the same defaults as ajv compiling at run time', () => {
    const standalone = Object.values(loadStandalone([pipelineSchema(), kindSchema]));
    const compiled = [createAjv().compile(pipelineSchema()), createAjv().compile(kindSchema)];
    const documents = [{}, {steps: {a: {uses: 'x', wiht: 1}}}, {name: 3, steps: {'1a': {uses: 'exec', with: {run: 1}}}}, {model: 'm.onnx'}, {model: 1, batch: 0, mode: 'c', extra: true}];
    for (const [index, precompiled] of standalone.entries()) {
      for (const document of documents) {
        const [a, b] = [structuredClone(document), structuredClone(document)];
        expect(precompiled(a)).toBe(compiled[index]!(b));
        expect((precompiled as unknown as {errors: unknown}).errors).toEqual(compiled[index]!.errors);
        expect(a).toEqual(b);
      }
    }
  });

  it('compile a schema the build did not see (run from the sources, or edited since the build)', () => {
    const validate = validatorFor(kindSchema);
    const params: Record<string, unknown> = {model: 'm.onnx'};
    expect(validate(params)).toBe(true);
    expect(params['batch']).toBe(64);
    expect(validatorFor(kindSchema)).toBe(validate);
  });
});
