// Hardware figures of one multiplier circuit and where they come from. Figures from different sources
// are different technologies (EvoApprox: 45 nm PDK45 synthesised by its authors; axx: Yosys + the
// 0.18 um osu018 cells), so they are only ever compared as ratios to the exact multiplier of the SAME
// source and operand kind.
import type {Multiplier} from '../approx/multiplier.js';
import {HwError} from './hw-error.js';

export interface CircuitFigures {
  multiplier: string;
  /** Multiplier id (content hash of its table). */
  id: string;
  /** "tabulated" = the figures the circuit's library states; "synthesised" = measured here with Yosys/OpenSTA. */
  source: 'tabulated' | 'synthesised';
  technology: string;
  /** Average power in mW (tabulated: as the library states it; synthesised: OpenSTA at the stated clock and activity). */
  powerMw: number | null;
  areaUm2: number | null;
  delayNs: number | null;
  /** Yosys' CMOS transistor estimate (synthesised only). */
  transistors?: number;
}

/** A consistent set of figures: every circuit and its exact reference from one technology. */
export interface FigureSource {
  /** e.g. "EvoApprox PDK45 (tabulated)" or "Yosys + osu018 (synthesised)". */
  name: string;
  figures(multiplier: Multiplier): CircuitFigures;
  /** The exact multiplier of this operand kind, costed by the same source. */
  exact(signed: boolean): CircuitFigures;
}

export function tabulatedFigures(multiplier: Multiplier): CircuitFigures {
  const {powerMw, areaUm2, delayNs, technology} = multiplier.hardware;
  return {
    multiplier: multiplier.name,
    id: multiplier.id,
    source: 'tabulated',
    technology: technology ?? 'unknown',
    powerMw,
    areaUm2,
    delayNs,
  };
}

/**
 * The figures a multiplier library states (EvoApprox: PDK45), relative to the library's exact circuits.
 * `exactSigned`/`exactUnsigned` are the library's exact multipliers (mul8s_1KV8, mul8u_1JFF).
 */
export function tabulatedSource(exactSigned: Multiplier, exactUnsigned: Multiplier): FigureSource {
  return {
    name: `${exactSigned.hardware.technology ?? 'library'} (tabulated)`,
    figures(multiplier) {
      const figures = tabulatedFigures(multiplier);
      if (figures.powerMw === null) {
        throw new HwError(
          `multiplier ${multiplier.name} has no tabulated power (${multiplier.provenance.source} circuit); ` +
            `cost it by synthesis instead (costModel "energy" or "data-aware", which need Yosys)`,
        );
      }
      return figures;
    },
    exact: (signed) => tabulatedFigures(signed ? exactSigned : exactUnsigned),
  };
}

/** A source over figures measured beforehand (see synthesiseFigures), keyed by multiplier id. */
export function measuredSource(name: string, byId: ReadonlyMap<string, CircuitFigures>, exact: {signed: CircuitFigures; unsigned: CircuitFigures}): FigureSource {
  return {
    name,
    figures(multiplier) {
      const figures = byId.get(multiplier.id);
      if (figures === undefined) throw new HwError(`multiplier ${multiplier.name} was not costed by ${name}; include it in the candidates`);
      return figures;
    },
    exact: (signed) => (signed ? exact.signed : exact.unsigned),
  };
}
