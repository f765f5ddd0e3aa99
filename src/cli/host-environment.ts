// The one place the environment axx runs in becomes what the engine hands to steps.
import type {HostEnvironment} from '../engine/step-kind.js';
import type {CliIo} from './command.js';

/** The set variables of the CLI's environment, as steps see it (StepContext.hostEnvironment). */
export function hostEnvironment(io: Pick<CliIo, 'env'>): HostEnvironment {
  return Object.fromEntries(Object.entries(io.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
