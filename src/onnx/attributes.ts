// Typed access to node attributes.
import type {Attribute, Node} from './ir.js';

export type AttributeValue<T extends Attribute['type']> = Extract<Attribute, {type: T}>['value'];

/** The value of attribute `name` if present; throws if it is present with another type. */
export function attribute<T extends Attribute['type']>(node: Node, name: string, type: T): AttributeValue<T> | undefined {
  const found = node.attributes.find((a) => a.name === name);
  if (!found) return undefined;
  if (found.type !== type) {
    throw new Error(`node "${node.name}" (${node.opType}): attribute "${name}" is of type ${found.type}, expected ${type}`);
  }
  return found.value as unknown as AttributeValue<T> | undefined;
}
