// The command registry: one file per command under this directory, one entry here (help lists them in this order).
import type {Command} from '../command.js';
import {kindsCommand} from './kinds.js';
import {planCommand} from './plan.js';
import {runCommand} from './run.js';
import {validateCommand} from './validate.js';

export const commands: readonly Command[] = [
  runCommand,
  planCommand,
  validateCommand,
  kindsCommand,
];
