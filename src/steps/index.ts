// The step-kind registry: the engine knows kinds only through this list. Add a kind with one import
// and one entry.
import type {StepKind} from '../engine/step-kind.js';
import {approximateKind} from './approximate.js';
import {calibrateKind} from './calibrate.js';
import {characterizeKind} from './characterize.js';
import {evaluateKind} from './evaluate.js';
import {exec} from './exec.js';
import {finetuneKind} from './finetune.js';
import {loadDatasetKind} from './load-dataset.js';
import {loadModelKind} from './load-model.js';
import {reportKind} from './report.js';
import {searchKind} from './search.js';
import {sensitivityKind} from './sensitivity.js';
import {synthesizeKind} from './synthesize.js';
import {trainStep} from './train.js';

export const stepKinds: readonly StepKind[] = [
  approximateKind,
  calibrateKind,
  characterizeKind,
  evaluateKind,
  exec,
  finetuneKind,
  loadDatasetKind,
  loadModelKind,
  reportKind,
  searchKind,
  sensitivityKind,
  synthesizeKind,
  trainStep,
];
