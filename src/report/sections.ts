// What each report section reads: small documented shapes that the producing steps' outputs already
// have (extra fields are ignored, so producers can grow). Each is checked with a JSON Schema on read,
// and a mismatch names the section, the file and the field.
import {Ajv2020, type ErrorObject, type ValidateFunction} from 'ajv/dist/2020.js';
import type {SensitivityMatrix} from '../approx/search/index.js';

/** Per-sample top-1 correctness (src/steps/evaluate.ts CorrectnessBits): what paired tests need. */
export interface CorrectnessBits {
  encoding: 'bitset-base64';
  count: number;
  /** Identifies the samples: two evaluations pair only when equal. */
  samples: string;
  bits: string;
}

/** How an evaluation's samples were chosen (src/data/subset.ts SubsetRecord). */
export interface SubsetSection {
  order: string;
  seed?: number;
  offset?: number;
  limit?: number | null;
  count: number;
  missingClasses?: number[];
}

/** One `evaluate` step's `metrics` value (src/steps/evaluate.ts); only top1 is required. */
export interface AccuracyMetrics {
  top1: number;
  top5?: number;
  meanLoss?: number;
  count?: number;
  perClass?: {name: string; count: number; correct: number; accuracy: number | null}[];
  confusion?: number[][] | null;
  subset?: SubsetSection;
  correct?: CorrectnessBits;
  warnings?: string[];
}

/** The `sensitivity` step's matrix (src/approx/search/sensitivity.ts). */
export type SensitivitySection = SensitivityMatrix;

/** One evaluated configuration of a search (src/approx/search/types.ts EvaluatedPoint). */
export interface SearchPoint {
  assignment?: Record<string, string>;
  accuracy: number;
  relativePower: number;
  /** baselineAccuracy − accuracy */
  drop?: number;
  feasible?: boolean;
  /** Relative power of every multiply of the model (non-approximated layers at exact power), when the search computed it. */
  wholeModelRelativePower?: number;
}

/**
 * The `search` step's result (src/approx/search/search.ts SearchResult). Without `pareto` the front is
 * computed; without `baselineAccuracy` it is read from the points' `drop`, else the best accuracy.
 */
export interface SearchSection {
  method?: string;
  points: SearchPoint[];
  pareto?: SearchPoint[];
  best?: SearchPoint;
  baselineAccuracy?: number;
  maxAccuracyDrop?: number;
  evaluations?: number;
  /** Evaluation samples per configuration. */
  samples?: number;
  /** How relative power was computed (the search step's power model description). */
  powerModel?: string;
  /** The answer's confirmation on images the search never saw (the search step's `confirmation`). */
  confirmation?: SearchConfirmation;
}

/** A candidate scored on the hold-out: drops are fractions (baseline − candidate), the interval at the confirmation's confidence. */
export interface ConfirmedCandidateSection {
  relativePower: number;
  searchDrop: number;
  holdout: {drop: number; samples: number; interval: {low: number; high: number}};
  verdict: string;
}

export interface SearchConfirmation {
  confidence: number;
  maxAccuracyDrop: number;
  margin?: number;
  candidates: ConfirmedCandidateSection[];
  answer?: ConfirmedCandidateSection;
  closest?: ConfirmedCandidateSection;
}

/** Per-epoch records (the `train` step's history.epochs, src/train/loop.ts EpochRecord). */
export interface EpochPoint {
  epoch: number;
  loss: number;
  trainAccuracy?: number;
  evalAccuracy?: number;
}

/** Per-step records of a finetune run (finer than epochs). */
export interface StepPoint {
  step: number;
  loss: number;
  accuracy?: number;
}

/** A finetune/train history: epochs, steps, or both. */
export interface FinetuneSection {
  epochs?: EpochPoint[];
  steps?: StepPoint[];
}

/** The `synthesize` step's summary (src/hw/accelerator.ts AcceleratorReport), the parts the report shows. */
export interface SynthesisSection {
  costModel: {name: string; description?: string; figures?: string};
  /** Of the approximated layers' multiplies. */
  relativePower: number;
  savingPercent: number;
  totalMacs: number;
  /** Every multiply of the model, the layers left exact at exact power (src/steps/synthesize.ts). */
  wholeModel?: WholeModelPower;
  energy?: {totalUj: number; multiplyUj: number; accumulateUj: number; exactUj: number; clockMHz?: number};
  array?: {rows: number; cols: number; technology: string; arrayAreaUm2: number; exactArrayAreaUm2: number; areaSavingPercent: number};
  layers: {layer: string; macs: number; macShare?: number; multiplier: string; relativePower: number}[];
  multipliers?: {name: string; tabulated?: MultiplierFigures; synthesised?: MultiplierFigures}[];
  tools?: {yosys: string | null; sta: string | null; notes: string[]};
}

export interface WholeModelPower {
  totalMacs: number;
  approximatedMacs: number;
  relativePower: number;
  savingPercent: number;
}

/**
 * Where the results come from, as the pipeline passes it: the load/model info, load/dataset infos by
 * name, and any parameters worth stating. The report adds its own environment (versions, machine).
 */
export interface ProvenanceSection {
  model?: {source?: string; sha256?: string; parameters?: number; macs?: {total: number}; producer?: string};
  datasets?: Record<string, {count?: number; sourceCount?: number; classes?: string[]; preprocessing?: string; subset?: SubsetSection}>;
  params?: Record<string, unknown>;
}

export interface MultiplierFigures {
  technology?: string;
  powerMw: number | null;
  areaUm2: number | null;
  relativePower?: number | null;
  relativeArea?: number | null;
}

/** The `approximate` step's manifest (src/approx/rewrite-manifest.ts), the columns of the per-layer table. */
export interface ManifestSection {
  layers: {node: string; op: string; multiplier: string | {name: string}; rank: number; path: string; macs: number | null; errorBound?: number}[];
  macs?: {total: number; approximated: number};
}

const num = {type: 'number'};
const nullableNum = {type: ['number', 'null']};
const str = {type: 'string'};

const accuracySchema = {
  type: 'object',
  required: ['top1'],
  properties: {
    top1: num,
    top5: num,
    meanLoss: num,
    count: num,
    perClass: {type: 'array', items: {type: 'object', required: ['name', 'count', 'correct', 'accuracy'], properties: {name: str, count: num, correct: num, accuracy: nullableNum}}},
    confusion: {type: ['array', 'null'], items: {type: 'array', items: num}},
    subset: {type: 'object', required: ['order', 'count'], properties: {order: str, seed: num, offset: num, limit: nullableNum, count: num, missingClasses: {type: 'array', items: num}}},
    correct: {type: 'object', required: ['encoding', 'count', 'samples', 'bits'], properties: {encoding: {const: 'bitset-base64'}, count: num, samples: str, bits: str}},
    warnings: {type: 'array', items: str},
  },
};

const pointSchema = {
  type: 'object',
  required: ['accuracy', 'relativePower'],
  properties: {assignment: {type: 'object', additionalProperties: str}, accuracy: num, relativePower: num, drop: num, feasible: {type: 'boolean'}, wholeModelRelativePower: num},
};

const sensitivitySchema = {
  type: 'object',
  required: ['baselineAccuracy', 'layers', 'multipliers', 'cells'],
  properties: {
    baselineAccuracy: num,
    layers: {type: 'array', items: str},
    multipliers: {type: 'array', items: str},
    cells: {
      type: 'array',
      items: {type: 'object', required: ['layer', 'multiplier', 'accuracy', 'drop'], properties: {layer: str, multiplier: str, accuracy: num, drop: num, metrics: {type: 'object', additionalProperties: num}}},
    },
  },
};

const confirmedSchema = {
  type: 'object',
  required: ['relativePower', 'searchDrop', 'holdout', 'verdict'],
  properties: {
    relativePower: num,
    searchDrop: num,
    holdout: {type: 'object', required: ['drop', 'samples', 'interval'], properties: {drop: num, samples: num, interval: {type: 'object', required: ['low', 'high'], properties: {low: num, high: num}}}},
    verdict: str,
  },
};

const searchSchema = {
  type: 'object',
  required: ['points'],
  properties: {
    method: str,
    points: {type: 'array', minItems: 1, items: pointSchema},
    pareto: {type: 'array', items: pointSchema},
    best: pointSchema,
    baselineAccuracy: num,
    maxAccuracyDrop: num,
    evaluations: num,
    samples: num,
    powerModel: str,
    confirmation: {
      type: 'object',
      required: ['confidence', 'maxAccuracyDrop', 'candidates'],
      properties: {confidence: num, maxAccuracyDrop: num, margin: num, candidates: {type: 'array', items: confirmedSchema}, answer: confirmedSchema, closest: confirmedSchema},
    },
  },
};

const finetuneSchema = {
  type: 'object',
  anyOf: [{required: ['epochs']}, {required: ['steps']}],
  properties: {
    epochs: {type: 'array', items: {type: 'object', required: ['epoch', 'loss'], properties: {epoch: num, loss: num, trainAccuracy: num, evalAccuracy: num}}},
    steps: {type: 'array', items: {type: 'object', required: ['step', 'loss'], properties: {step: num, loss: num, accuracy: num}}},
  },
};

const figuresSchema = {type: 'object', required: ['powerMw', 'areaUm2'], properties: {technology: str, powerMw: nullableNum, areaUm2: nullableNum, relativePower: nullableNum, relativeArea: nullableNum}};

const synthesisSchema = {
  type: 'object',
  required: ['costModel', 'relativePower', 'savingPercent', 'totalMacs', 'layers'],
  properties: {
    costModel: {type: 'object', required: ['name'], properties: {name: str, description: str, figures: str}},
    relativePower: num,
    savingPercent: num,
    totalMacs: num,
    wholeModel: {type: 'object', required: ['totalMacs', 'approximatedMacs', 'relativePower', 'savingPercent'], properties: {totalMacs: num, approximatedMacs: num, relativePower: num, savingPercent: num}},
    energy: {type: 'object', required: ['totalUj', 'multiplyUj', 'accumulateUj', 'exactUj'], properties: {totalUj: num, multiplyUj: num, accumulateUj: num, exactUj: num, clockMHz: num}},
    array: {
      type: 'object',
      required: ['rows', 'cols', 'technology', 'arrayAreaUm2', 'exactArrayAreaUm2', 'areaSavingPercent'],
      properties: {rows: num, cols: num, technology: str, arrayAreaUm2: num, exactArrayAreaUm2: num, areaSavingPercent: num},
    },
    layers: {type: 'array', items: {type: 'object', required: ['layer', 'macs', 'multiplier', 'relativePower'], properties: {layer: str, macs: num, macShare: num, multiplier: str, relativePower: num}}},
    multipliers: {type: 'array', items: {type: 'object', required: ['name'], properties: {name: str, tabulated: figuresSchema, synthesised: figuresSchema}}},
    tools: {type: 'object', required: ['notes'], properties: {yosys: {type: ['string', 'null']}, sta: {type: ['string', 'null']}, notes: {type: 'array', items: str}}},
  },
};

const manifestSchema = {
  type: 'object',
  required: ['layers'],
  properties: {
    layers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['node', 'op', 'multiplier', 'rank', 'path', 'macs'],
        properties: {
          node: str,
          op: str,
          multiplier: {anyOf: [str, {type: 'object', required: ['name'], properties: {name: str}}]},
          rank: num,
          path: str,
          macs: nullableNum,
          errorBound: num,
        },
      },
    },
    macs: {type: 'object', required: ['total', 'approximated'], properties: {total: num, approximated: num}},
  },
};

const provenanceSchema = {
  type: 'object',
  properties: {
    model: {type: 'object', properties: {source: str, sha256: str, parameters: num, producer: str, macs: {type: 'object', required: ['total'], properties: {total: num}}}},
    datasets: {type: 'object', additionalProperties: {type: 'object', properties: {count: num, sourceCount: num, classes: {type: 'array', items: str}, preprocessing: str}}},
    params: {type: 'object'},
  },
};

export interface SectionTypes {
  accuracy: AccuracyMetrics;
  sensitivity: SensitivitySection;
  search: SearchSection;
  finetune: FinetuneSection;
  synthesis: SynthesisSection;
  manifest: ManifestSection;
  provenance: ProvenanceSection;
}

export type SectionName = keyof SectionTypes;

/** Where the producer of each section comes from, for the hint of a mismatch. */
const PRODUCERS: Record<SectionName, string> = {
  accuracy: "an evaluate step's metrics output",
  sensitivity: "the sensitivity step's matrix output",
  search: "the search step's result output",
  finetune: "a finetune or train step's history output",
  synthesis: "the synthesize step's summary (or report) output",
  manifest: "the approximate step's manifest output",
  provenance: '{model: the load/model info output, datasets: {name: a load/dataset info output}, params: {...}}',
};

const SCHEMAS: Record<SectionName, Record<string, unknown>> = {
  accuracy: accuracySchema,
  sensitivity: sensitivitySchema,
  search: searchSchema,
  finetune: finetuneSchema,
  synthesis: synthesisSchema,
  manifest: manifestSchema,
  provenance: provenanceSchema,
};

// Compiled on first use: compiling all seven costs ~100 ms, which every command importing a step kind
// (`axx plan`) would pay at start-up though only the report step checks sections.
let ajv: Ajv2020 | undefined;
const validators = new Map<SectionName, ValidateFunction>();

function validatorFor(name: SectionName): ValidateFunction {
  let validate = validators.get(name);
  if (validate === undefined) {
    ajv ??= new Ajv2020({allErrors: false, strict: false});
    validate = ajv.compile(SCHEMAS[name]);
    validators.set(name, validate);
  }
  return validate;
}

/** A section input that does not have the documented shape. */
export class SectionError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'SectionError';
  }
}

function describeError(error: ErrorObject): string {
  const field = error.instancePath === '' ? 'the value' : `field ${error.instancePath.slice(1).replace(/\//g, '.')}`;
  if (error.keyword === 'required') return `${field} has no "${(error.params as {missingProperty: string}).missingProperty}"`;
  return `${field} ${error.message ?? 'is invalid'}`;
}

/**
 * Checks `value` against the section's shape. `where` names the input ("with.accuracy.float") and,
 * when it came from a file, `file` names it.
 */
export function checkSection<N extends SectionName>(name: N, value: unknown, where: string, file?: string): SectionTypes[N] {
  const validate = validatorFor(name);
  if (!validate(value)) {
    const first = validate.errors?.[0];
    const detail = first === undefined ? 'does not match' : describeError(first);
    throw new SectionError(`${where}${file !== undefined ? ` (file ${file})` : ''}: ${detail}`, `pass ${PRODUCERS[name]}; see src/report/sections.ts for the shape`);
  }
  return value as unknown as SectionTypes[N];
}
