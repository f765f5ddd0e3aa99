// Signed use of an unsigned circuit: |a|·|b| computed on the operands' magnitudes (|-128| = 128 still
// fits 8 unsigned bits) and negated when the signs differ, the result kept to 16 bits as the library's
// tables are. Used by the value-level families' signed forms and by layers the manifest marks
// "sign-magnitude wrapper" (an unsigned circuit applied to signed data).
import type {Multiplier} from '../../approx/multiplier.js';
import {MODULE_FOOTER, multiplierHeader, type RtlModule} from './rtl.js';

export function signMagnitudeRtl(name: string, core: RtlModule, comment: string): RtlModule {
  if (core.signed) throw new Error(`sign-magnitude wrapper: ${core.name} is already a signed circuit`);
  const source = [
    core.source,
    multiplierHeader(name, 16, `${comment}, sign-magnitude wrapper around the unsigned ${core.name}`),
    '  wire [7:0] ma = a[7] ? -a : a;',
    '  wire [7:0] mb = b[7] ? -b : b;',
    `  wire [${core.outWidth - 1}:0] m;`,
    `  ${core.name} core (.a(ma), .b(mb), .y(m));`,
    '  assign y = (a[7] ^ b[7]) ? -m[15:0] : m[15:0];',
    MODULE_FOOTER,
  ].join('\n');
  return {name, source, outWidth: 16, signed: true};
}

/** Wrapped views -> their unsigned cores, so RTL generation can find the circuit inside. */
const cores = new WeakMap<Multiplier, Multiplier>();

/**
 * The signed circuit "unsigned `core` behind a sign-magnitude wrapper", as a multiplier record: its table
 * is the wrapper's behaviour; its hardware figures are the core's (the wrapper's own cost is only in
 * synthesised figures). The id is derived from the core's, not a content hash: it only keys hw caches.
 */
export function signMagnitudeView(core: Multiplier): Multiplier {
  if (core.signed) throw new Error(`sign-magnitude wrapper: ${core.name} already takes signed operands`);
  const table = new Int32Array(65536);
  for (let a = 0; a < 256; a++) {
    const va = a >= 128 ? a - 256 : a;
    for (let b = 0; b < 256; b++) {
      const vb = b >= 128 ? b - 256 : b;
      const magnitude = core.table[Math.abs(va) * 256 + Math.abs(vb)] ?? 0;
      const word = ((((va < 0) !== (vb < 0) ? -magnitude : magnitude) % 65536) + 65536) % 65536;
      table[a * 256 + b] = word >= 32768 ? word - 65536 : word;
    }
  }
  const view: Multiplier = {
    name: `${core.name}+sm`,
    signed: true,
    bits: 8,
    table,
    id: `${core.id}+sm`,
    provenance: {source: 'wrapper', description: `sign-magnitude wrapper around ${core.name}`},
    hardware: core.hardware,
  };
  cores.set(view, core);
  return view;
}

export function wrappedCore(multiplier: Multiplier): Multiplier | undefined {
  return cores.get(multiplier);
}
