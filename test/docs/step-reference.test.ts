// The README's step reference is generated from the registry (scripts/step-reference.ts); a kind or a
// parameter added without `npm run docs:steps` makes the manual lie, so this fails until it is re-run.
import {readFile} from 'node:fs/promises';
import {describe, expect, it} from 'vitest';
import type {StepKind} from '../../src/engine/step-kind.js';
import {stepKinds} from '../../src/steps/index.js';
import {README_PATH, renderStepReference, withStepReference} from '../../scripts/step-reference.js';

describe('README step reference', () => {
  it('matches the step-kind registry', async () => {
    const readme = await readFile(README_PATH, 'utf8');
    expect(withStepReference(readme, renderStepReference(stepKinds)), 'README.md is stale: run `npm run docs:steps`').toBe(readme);
  });

  it('changes when a kind gains a parameter', () => {
    const [first, ...rest] = stepKinds as [StepKind, ...StepKind[]];
    const properties = {...(first.schema.properties as object), addedForTheTest: {type: 'integer', description: 'new'}};
    const changed = {...first, schema: {...first.schema, properties}};
    const reference = renderStepReference([changed, ...rest]);
    expect(reference).not.toBe(renderStepReference(stepKinds));
    expect(reference).toContain('| `addedForTheTest` | integer |  | new |');
  });
});
