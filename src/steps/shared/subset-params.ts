// The subset parameters every step that takes `limit` shares (load/dataset, calibrate, evaluate), so they
// read, default and record it the same way: src/data/subset.ts chooses the samples.
import {DEFAULT_SUBSET_SEED, SUBSET_ORDERS, type SubsetOptions, type SubsetOrder} from '../../data/subset.js';

export interface SubsetParams {
  limit?: number;
  offset?: number;
  seed: number;
  order: SubsetOrder;
}

const count = {type: 'integer', minimum: 0};

/** `what` names the samples limit counts ("samples", "calibration samples" …). */
export function subsetParamSchema(what = 'samples'): Record<string, unknown> {
  return {
    limit: {...count, description: `Take at most this many ${what} (after offset), chosen as order says.`},
    offset: {...count, description: 'Skip this many samples first (in shuffled order unless order is file).'},
    seed: {type: 'integer', default: DEFAULT_SUBSET_SEED, description: 'Seed of the shuffle (orders stratified and shuffled); the chosen samples keep their stored order.'},
    order: {
      enum: [...SUBSET_ORDERS],
      default: 'stratified',
      description: 'stratified: a seeded sample with every class in proportion to its size; shuffled: a seeded sample; file: the first samples as stored.',
    },
  };
}

export function subsetOptions(params: SubsetParams): SubsetOptions {
  return {
    ...(params.limit !== undefined ? {limit: params.limit} : {}),
    ...(params.offset !== undefined ? {offset: params.offset} : {}),
    seed: params.seed,
    order: params.order,
  };
}
