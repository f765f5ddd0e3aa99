// Multipliers that are an edited partial-product matrix (exact, truncated, broken-array, perforated):
// one module = header + matrix sum.
import {baughWooleyMatrix, emitMatrixSum, unsignedMatrix, type BitMatrix} from './bit-matrix.js';
import {MODULE_FOOTER, multiplierHeader, type RtlModule} from './rtl.js';

export function baseMatrix(signed: boolean): BitMatrix {
  return signed ? baughWooleyMatrix() : unsignedMatrix();
}

export function matrixMultiplierRtl(name: string, signed: boolean, matrix: BitMatrix, comment: string): RtlModule {
  const source = [multiplierHeader(name, matrix.width, comment), emitMatrixSum(matrix, 'y'), MODULE_FOOTER].join('\n');
  return {name, source, outWidth: matrix.width, signed};
}

export function exactMultiplierRtl(name: string, signed: boolean): RtlModule {
  const form = signed ? 'Baugh-Wooley signed' : 'unsigned';
  return matrixMultiplierRtl(name, signed, baseMatrix(signed), `exact 8x8 ${form} array multiplier`);
}
