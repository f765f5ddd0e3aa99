// Shared by the hardware tests: probe the EDA tools once and explain a skip instead of hiding it.
import {detectHwTools, INSTALL_HINT, type HwTools} from '../../src/hw/tools.js';

export const testTools: HwTools = await detectHwTools();

/** A reason to skip, or undefined when every named tool is present. */
export function missingTools(...needed: (keyof HwTools)[]): string | undefined {
  const missing = needed.filter((name) => testTools[name] === undefined);
  if (missing.length === 0) return undefined;
  const reason = `skipped: ${missing.join(', ')} not installed (${INSTALL_HINT})`;
  console.warn(reason);
  return reason;
}
