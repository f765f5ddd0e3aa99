// Generated multiplier families by name. Grammar: <family>8<s|u>[_<letter><integer>…][c], e.g.
// trunc8s_k4, trunc8u_k4c, bam8u_h2_v6, perf8s_p0_n2, otrunc8u_k2, oround8s_k1, drum8u_k4, mitchell8s.
import {makeMultiplier, NO_HARDWARE, type Multiplier} from '../multiplier.js';
import {brokenArrayTable, perforatedTable, truncatedTable} from './array-families.js';
import {coreTable, drumCore, mitchellCore, operandRoundedTable, operandTruncatedTable} from './value-families.js';

type Params = Record<string, number | boolean>;

interface Family {
  /** Name prefix before "8s"/"8u". */
  prefix: string;
  /** `provenance.family.name`, the key src/hw/verilog/families.ts generates RTL by. */
  familyName: string;
  /** Integer parameters in name order, each with its inclusive range (may depend on earlier ones). */
  params: {key: string; min: number; max: (earlier: Params) => number}[];
  /** Whether a trailing "c" (correction constant) is allowed. */
  correction?: boolean;
  table(signed: boolean, params: Params): Int32Array;
  describe(signed: boolean, params: Params): string;
  citation?: string;
}

const BAUGH_WOOLEY = 'signed: the same edit of the Baugh-Wooley array';
const SIGN_MAGNITUDE = 'signed: sign-magnitude wrapper around the unsigned core';
const int = (params: Params, key: string): number => params[key] as number;

const FAMILIES: Family[] = [
  {
    prefix: 'trunc',
    familyName: 'truncated',
    params: [{key: 'k', min: 1, max: () => 8}],
    correction: true,
    table: (signed, p) => truncatedTable(signed, int(p, 'k'), p['correction'] === true),
    describe: (signed, p) =>
      `truncated array multiplier, partial-product columns < ${int(p, 'k')} removed` +
      (p['correction'] === true ? ', expected value of the removed bits added back' : '') +
      (signed ? ` (${BAUGH_WOOLEY})` : ''),
    citation: 'M. J. Schulte, E. E. Swartzlander, "Truncated multiplication with correction constant", VLSI Signal Processing VI, IEEE, 1993',
  },
  {
    prefix: 'bam',
    familyName: 'bam',
    params: [
      {key: 'h', min: 0, max: () => 7},
      {key: 'v', min: 0, max: () => 14},
    ],
    table: (signed, p) => brokenArrayTable(signed, int(p, 'h'), int(p, 'v')),
    describe: (signed, p) =>
      `broken-array multiplier, ${int(p, 'h')} low rows and the cells right of column ${int(p, 'v')} omitted` + (signed ? ` (${BAUGH_WOOLEY})` : ''),
    citation:
      'H. R. Mahdiani, A. Ahmadi, S. M. Fakhraie, C. Lucas, "Bio-inspired imprecise computational blocks for efficient VLSI implementation of soft-computing applications", IEEE TCAS-I 57(4), 2010',
  },
  {
    prefix: 'perf',
    familyName: 'perforated',
    params: [
      {key: 'p', min: 0, max: () => 7},
      {key: 'n', min: 1, max: (earlier) => 8 - int(earlier, 'p')},
    ],
    table: (signed, p) => perforatedTable(signed, int(p, 'p'), int(p, 'n')),
    describe: (signed, p) =>
      `partial-product perforation, rows ${int(p, 'p')}..${int(p, 'p') + int(p, 'n') - 1} (bits of b) skipped` + (signed ? ` (${BAUGH_WOOLEY})` : ''),
    citation:
      'G. Zervakis, K. Tsoumanis, S. Xydis, D. Soudris, K. Pekmestzi, "Design-efficient approximate multiplication circuits through partial product perforation", IEEE TVLSI 24(10), 2016',
  },
  {
    prefix: 'otrunc',
    familyName: 'operand-truncation',
    params: [{key: 'k', min: 1, max: () => 7}],
    table: (signed, p) => operandTruncatedTable(signed, int(p, 'k')),
    describe: (signed, p) =>
      `operand truncation, the ${int(p, 'k')} low bits of both operands set to 0, exact product` + (signed ? ' (signed: two’s-complement values rounded toward −∞)' : ''),
  },
  {
    prefix: 'oround',
    familyName: 'operand-rounding',
    params: [{key: 'k', min: 1, max: () => 7}],
    table: (signed, p) => operandRoundedTable(signed, int(p, 'k')),
    describe: (signed, p) =>
      `operand rounding, both operands rounded half-up to multiples of ${2 ** int(p, 'k')} (saturating), exact product` +
      (signed ? ' (signed: rounding of the two’s-complement values)' : ''),
  },
  {
    prefix: 'drum',
    familyName: 'drum',
    params: [{key: 'k', min: 2, max: () => 7}],
    table: (signed, p) => coreTable(signed, drumCore(int(p, 'k'))),
    describe: (signed, p) => `DRUM-${int(p, 'k')} dynamic-range unbiased multiplier` + (signed ? ` (${SIGN_MAGNITUDE})` : ''),
    citation: 'S. Hashemi, R. I. Bahar, S. Reda, "DRUM: A dynamic range unbiased multiplier for approximate applications", ICCAD 2015',
  },
  {
    prefix: 'mitchell',
    familyName: 'mitchell',
    params: [],
    table: (signed) => coreTable(signed, mitchellCore),
    describe: (signed) => 'Mitchell logarithmic multiplier, result truncated to an integer' + (signed ? ` (${SIGN_MAGNITUDE})` : ''),
    citation: 'J. N. Mitchell, "Computer multiplication and division using binary logarithms", IRE Trans. Electronic Computers EC-11(4), 1962',
  },
];

/** Thrown for a name in the family grammar with bad parameters. */
export class FamilyNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FamilyNameError';
  }
}

const NAME = /^([a-z]+)8([su])((?:_[a-z]\d+)*)(c?)$/;

/** The generated multiplier `name` stands for; undefined when the name is not in the family grammar. */
export function generatedMultiplier(name: string): Multiplier | undefined {
  const match = NAME.exec(name);
  const family = match && FAMILIES.find((f) => f.prefix === match[1]);
  if (!match || !family) return undefined;
  const signed = match[2] === 's';
  const params = parseParams(name, family, match[3] ?? '', match[4] === 'c');
  return makeMultiplier({
    name,
    signed,
    table: family.table(signed, params),
    provenance: {
      source: 'generated',
      description: family.describe(signed, params),
      ...(family.citation === undefined ? {} : {citation: family.citation}),
      family: {name: family.familyName, params},
    },
    hardware: NO_HARDWARE,
  });
}

function parseParams(name: string, family: Family, text: string, correction: boolean): Params {
  const given = text.split('_').filter(Boolean);
  const grammar = `${family.prefix}8<s|u>${family.params.map((p) => `_${p.key}<int>`).join('')}${family.correction ? '[c]' : ''}`;
  const keys = given.map((g) => g[0]);
  if (keys.join() !== family.params.map((p) => p.key).join() || (correction && !family.correction)) {
    throw new FamilyNameError(`multiplier "${name}": expected ${grammar}, e.g. ${exampleName(family)}`);
  }
  const params: Params = {};
  family.params.forEach((spec, index) => {
    const value = Number(given[index]?.slice(1));
    const max = spec.max(params);
    if (value < spec.min || value > max) {
      throw new FamilyNameError(`multiplier "${name}": ${spec.key} must be between ${spec.min} and ${max}, got ${value}`);
    }
    params[spec.key] = value;
  });
  if (family.correction) params['correction'] = correction;
  return params;
}

function exampleName(family: Family): string {
  return REPRESENTATIVES.find((n) => n.startsWith(family.prefix + '8')) ?? `${family.prefix}8u`;
}

/** Generated circuits `axx multipliers` lists (any other valid name resolves too). */
const REPRESENTATIVES = ['trunc8u_k4', 'trunc8u_k6', 'trunc8u_k4c', 'trunc8u_k6c', 'bam8u_h2_v6', 'bam8u_h4_v8', 'perf8u_p0_n2', 'perf8u_p2_n2', 'drum8u_k4', 'drum8u_k6', 'mitchell8u'];

export function representativeNames(): string[] {
  return REPRESENTATIVES.flatMap((n) => [n.replace('8u', '8s'), n]);
}

/** Names with the grammar of each family, for help texts and suggestions. */
export function familyGrammar(): string[] {
  return FAMILIES.map((f) => `${f.prefix}8<s|u>${f.params.map((p) => `_${p.key}<int>`).join('')}${f.correction ? '[c]' : ''}`);
}
