import {describe, expect, it} from 'vitest';
import {keyContext} from '../../../test/support/step-context.js';
import {cacheKey, KEY_SCHEMA_VERSION, keyEnvironment} from '../../engine/cache-key.js';
import type {Json, StepKind} from '../../engine/step-kind.js';
import {calibrateKind} from '../calibrate.js';
import {evaluateKind} from '../evaluate.js';
import {finetuneKind} from '../finetune.js';
import {searchKind} from '../search.js';
import {sensitivityKind} from '../sensitivity.js';
import {trainStep} from '../train.js';

async function extras(kind: StepKind, params: Record<string, unknown>): Promise<Json> {
  return (await kind.keyExtras!(params, keyContext)) as Json;
}

/** The key the engine would compute for these extras, all else equal. */
function keyWith(kind: StepKind, extrasValue: Json): string {
  return cacheKey({schema: KEY_SCHEMA_VERSION, kind: kind.name, kindVersion: kind.version, params: {}, inputs: {}, extras: extrasValue, environment: keyEnvironment()});
}

describe('execution provider in the cache key', () => {
  it.each([
    ['calibrate', calibrateKind, {}],
    ['train', trainStep, {}],
    ['finetune', finetuneKind, {default: 'exact8u'}],
    ['sensitivity', sensitivityKind, {multipliers: ['exact8u']}],
    ['search', searchKind, {multipliers: ['exact8u']}],
  ] as [string, StepKind, Record<string, unknown>][])('%s keys on the CPU provider its sessions run on', async (_name, kind, params) => {
    expect(await extras(kind, params)).toMatchObject({execution: {provider: 'cpu'}});
  });

  it('evaluate keys on the provider its device selects, not on the GPU index (no CUDA needed)', async () => {
    const onCpu = await extras(evaluateKind, {device: 'cpu'});
    const onCuda0 = await extras(evaluateKind, {device: 'cuda:0'});
    expect(keyWith(evaluateKind, onCuda0)).not.toBe(keyWith(evaluateKind, onCpu));
    expect(await extras(evaluateKind, {device: 'cuda:1'})).toEqual(onCuda0);
    expect(onCuda0).toEqual({execution: {provider: 'cuda', tf32: false}});
  });
});
