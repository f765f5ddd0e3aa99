// The command registry: one file per command under this directory, one entry here (help lists them in this order).
import type {Command} from '../command.js';
import {cacheCommand} from './cache.js';
import {compareCommand} from './compare.js';
import {dagCommand} from './dag.js';
import {exportCommand} from './export.js';
import {gcCommand} from './gc.js';
import {kindsCommand} from './kinds.js';
import {multiplierCommand} from './multiplier.js';
import {multipliersCommand} from './multipliers.js';
import {planCommand} from './plan.js';
import {runCommand} from './run.js';
import {runsCommand} from './runs.js';
import {showCommand} from './show.js';
import {validateCommand} from './validate.js';
import {watchCommand} from './watch.js';
import {workerCommand} from './worker.js';
import {workersCommand} from './workers.js';

export const commands: readonly Command[] = [
  runCommand,
  planCommand,
  validateCommand,
  dagCommand,
  runsCommand,
  watchCommand,
  showCommand,
  compareCommand,
  exportCommand,
  gcCommand,
  cacheCommand,
  kindsCommand,
  multipliersCommand,
  multiplierCommand,
  workerCommand,
  workersCommand,
];
