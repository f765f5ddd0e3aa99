// The contract of a shape rule: what one node's inference reads (input types, shapes, tracked values)
// and writes (output types, tracked values). One table per op family, like train/rules/*.
import {DataType, type DataTypeCode, type Dim, type Node} from '../ir.js';

export interface ValueType {
  elemType: DataTypeCode;
  /** undefined = rank unknown. */
  shape?: Dim[];
}

/** Known contents of a small integer tensor: a flat list of dims (numbers or symbols), with its rank. */
export interface KnownValue {
  values: Dim[];
  scalar: boolean;
}

/** Largest constant whose elements are tracked as values. */
export const MAX_TRACKED_ELEMENTS = 64;

export function isIntegerType(t: DataTypeCode): boolean {
  return t === DataType.INT64 || t === DataType.INT32;
}

/** One node under inference. */
export interface ShapeNode {
  node: Node;
  opset: number;
  inType(i: number): ValueType | undefined;
  inShape(i: number): Dim[] | undefined;
  /** The tracked value of input i, if known. */
  value(i: number): KnownValue | undefined;
  /** The element type of the first input (UNDEFINED when unknown). */
  firstType: DataTypeCode;
  /** Sets output `output`'s type; the element type defaults to the first input's. */
  set(shape: Dim[] | undefined, elemType?: DataTypeCode, output?: number): void;
  /** Tracks output 0's value. */
  setKnown(values: Dim[], scalar?: boolean): void;
}

export type ShapeRule = (n: ShapeNode) => void;
