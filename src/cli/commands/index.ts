// The command registry: one file per command under this directory, one entry here (help lists them in this order).
import type {Command} from '../command.js';
import {kindsCommand} from './kinds.js';

export const commands: readonly Command[] = [
  kindsCommand,
];
