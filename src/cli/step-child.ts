// Entry of a forked step process (the child-process executor): serves one step with the kind registry.
import {serveStepInChild} from '../engine/child-step-server.js';
import {stepKinds} from '../steps/index.js';

// Without a parent the step's result has nowhere to go: end at once, whatever the step still holds open.
serveStepInChild(stepKinds, () => process.exit(0));
